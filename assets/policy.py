"""What every asset shares, applied once to the code location's assets
(assets/definitions.py) instead of being repeated in each module: who owns
them, and when Dagster materialises them by itself."""

import dagster as dg

from assets.model import GROUP as RETRAINING_GROUP

OWNERS = ["team:donnees-egn"]
EAGER = dg.AutomationCondition.eager()


def apply_policy(spec: dg.AssetSpec) -> dg.AssetSpec:
    """The team owns every asset. An asset computed from other assets
    follows them (eager) unless it declares a condition of its own: the
    roots (the files, the corrections folder) are started by their sensors,
    and the retraining group only ever by an analyst."""
    automation = spec.automation_condition
    if automation is None and spec.deps and spec.group_name != RETRAINING_GROUP:
        automation = EAGER
    return spec.replace_attributes(owners=OWNERS, automation_condition=automation)
