"""Cross-département aggregates, over the current restitution of each département."""


import dagster as dg
import pandas as pd

from assets.metadata import schema_check_spec, table_description, table_result
from pipeline.tables import aggregate

GROUP = "agregats"


@dg.asset(group_name=GROUP, kinds={"pandas"},
          check_specs=[schema_check_spec("theme_summary")],
          description=table_description("theme_summary"))
def theme_summary(documents: pd.DataFrame, items: pd.DataFrame):
    return table_result("theme_summary", aggregate.theme_summary(documents, items))


@dg.asset(group_name=GROUP, kinds={"pandas"},
          check_specs=[schema_check_spec("category_summary")],
          description=table_description("category_summary"))
def category_summary(documents: pd.DataFrame, items: pd.DataFrame):
    return table_result("category_summary", aggregate.category_summary(documents, items))


@dg.asset(group_name=GROUP, kinds={"pandas"},
          check_specs=[schema_check_spec("department_theme_matrix")],
          description=table_description("department_theme_matrix"))
def department_theme_matrix(documents: pd.DataFrame, items: pd.DataFrame):
    return table_result("department_theme_matrix", aggregate.department_theme_matrix(documents, items))


@dg.asset(group_name=GROUP, kinds={"pandas"},
          check_specs=[schema_check_spec("actors_summary")],
          description=table_description("actors_summary"))
def actors_summary(documents: pd.DataFrame, actions: pd.DataFrame):
    return table_result("actors_summary", aggregate.actors_summary(documents, actions))


@dg.asset(group_name=GROUP, kinds={"pandas"},
          check_specs=[schema_check_spec("participants_summary")],
          description=table_description("participants_summary"))
def participants_summary(documents: pd.DataFrame, participants: pd.DataFrame):
    return table_result("participants_summary", aggregate.participants_summary(documents, participants))
