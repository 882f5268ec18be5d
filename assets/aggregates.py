"""Cross-département aggregates, over the current restitution of each département."""


import dagster as dg
import pandas as pd

from assets.metadata import schema_check_spec, table_result
from pipeline import aggregate

OWNERS = ["team:donnees-egn"]
GROUP = "agregats"
EAGER = dg.AutomationCondition.eager()


@dg.asset(group_name=GROUP, kinds={"pandas"}, owners=OWNERS, automation_condition=EAGER,
          check_specs=[schema_check_spec("theme_summary")],
          description="Nombre d'énoncés et de départements par thème et par rôle.")
def theme_summary(documents: pd.DataFrame, items: pd.DataFrame):
    return table_result("theme_summary", aggregate.theme_summary(documents, items))


@dg.asset(group_name=GROUP, kinds={"pandas"}, owners=OWNERS, automation_condition=EAGER,
          check_specs=[schema_check_spec("category_summary")],
          description="Par thème, rôle et catégorie : énoncés, départements concernés, part des départements, exemples.")
def category_summary(documents: pd.DataFrame, items: pd.DataFrame):
    return table_result("category_summary", aggregate.category_summary(documents, items))


@dg.asset(group_name=GROUP, kinds={"pandas"}, owners=OWNERS, automation_condition=EAGER,
          check_specs=[schema_check_spec("department_theme_matrix")],
          description="Matrice département × thème : irritants, points forts, besoins, leviers et actions.")
def department_theme_matrix(documents: pd.DataFrame, items: pd.DataFrame):
    return table_result("department_theme_matrix", aggregate.department_theme_matrix(documents, items))


@dg.asset(group_name=GROUP, kinds={"pandas"}, owners=OWNERS, automation_condition=EAGER,
          check_specs=[schema_check_spec("actors_summary")],
          description="Acteurs mobilisés par les plans d'action : nombre d'actions, de départements, thèmes.")
def actors_summary(documents: pd.DataFrame, actions: pd.DataFrame):
    return table_result("actors_summary", aggregate.actors_summary(documents, actions))


@dg.asset(group_name=GROUP, kinds={"pandas"}, owners=OWNERS, automation_condition=EAGER,
          check_specs=[schema_check_spec("participants_summary")],
          description="Participants par catégorie : départements ayant coché, total déclaré, nombres manquants.")
def participants_summary(documents: pd.DataFrame, participants: pd.DataFrame):
    return table_result("participants_summary", aggregate.participants_summary(documents, participants))
