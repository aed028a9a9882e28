"""zen-engine beside `Engine`: the same rules as one decision table, for the benchmark.

zen-engine (PyPI ``zen-engine``, a Rust rules engine) is a peer to compare
with, never a dependency of the service: `make bench` installs it into the
benchmark's environment and skips this line when it cannot.

The translation is mechanical, from the rule book alone. Each action rule is
a row whose cells are its conditions (a field tested twice gets a second
column); each reject rule, which fires when one of its safe counterparts was
recommended, becomes one row per action rule recommending such a counterpart,
with that rule's conditions and its own on the state. The table collects the
ids of the rows that hold; the rule ids, each once, are what fired. An absent
field fails every condition on it, as in durable_rules.
"""

from __future__ import annotations

import json

from advisor.rules import Condition, RuleBook

__all__ = ["ZenRules", "available"]


def available() -> bool:
    try:
        import zen  # noqa: F401
    except ImportError:
        return False
    return True


def _literal(value) -> str:
    return json.dumps(list(value) if isinstance(value, tuple) else value)


#: Fields a fact may lack (`advisor.state.to_fact`): their cells test for it.
OPTIONAL = frozenset(("hours_past_grace",))


def _cell(condition: Condition) -> str:
    """The condition as a unary test of its column's value; on a field a fact may
    lack, false when it is absent (zen-engine fails to compare null)."""
    value = _literal(condition.value)
    plain = {
        "eq": value,
        "not": f"!= {value}",
        "lt": f"< {value}",
        "lte": f"<= {value}",
        "gt": f"> {value}",
        "gte": f">= {value}",
        "in": ", ".join(_literal(v) for v in condition.value) if condition.op == "in" else "",
    }[condition.op]
    if condition.field not in OPTIONAL:
        return plain
    test = {"eq": "==", "not": "!=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">=", "in": "in"}
    return f"$ != null and $ {test[condition.op]} {value}"


class ZenRules:
    """The rule book as a zen-engine decision: `fire(fact)` gives the rule ids that hold."""

    def __init__(self, rulebook: RuleBook):
        import zen

        rules = rulebook.rules
        rows: list[tuple[str, list[Condition]]] = []
        for rule in rules.values():
            if rule.kind == "action":
                rows.append((rule.id, list(rule.conditions)))
        for rule in rules.values():
            if rule.kind != "reject":
                continue
            wanted = {v for c in rule.conditions if c.field == "recommended" for v in c.value}
            for action in rules.values():
                if action.kind == "action" and action.target in wanted:
                    rows.append((rule.id, [*action.conditions, *rule.state_conditions]))
        columns: dict[tuple[str, int], str] = {}
        table_rows = []
        for number, (rule_id, conditions) in enumerate(rows):
            row = {"_id": f"row{number}", "rule": json.dumps(rule_id)}
            seen: dict[str, int] = {}
            for condition in conditions:
                index = seen[condition.field] = seen.get(condition.field, -1) + 1
                column = columns.setdefault(
                    (condition.field, index), f"in_{condition.field}_{index}"
                )
                row[column] = _cell(condition)
            table_rows.append(row)
        content = {
            "nodes": [
                {"id": "request", "type": "inputNode", "name": "request"},
                {
                    "id": "rules",
                    "type": "decisionTableNode",
                    "name": "rules",
                    "content": {
                        "hitPolicy": "collect",
                        "inputs": [
                            {"id": column, "name": column, "field": field}
                            for (field, _), column in columns.items()
                        ],
                        "outputs": [{"id": "rule", "name": "rule", "field": "rule"}],
                        "rules": table_rows,
                    },
                },
                {"id": "response", "type": "outputNode", "name": "response"},
            ],
            "edges": [
                {"id": "e1", "sourceId": "request", "targetId": "rules", "type": "edge"},
                {"id": "e2", "sourceId": "rules", "targetId": "response", "type": "edge"},
            ],
        }
        self.rows = len(table_rows)
        self._decision = zen.ZenEngine().create_decision(json.dumps(content))

    def fire(self, fact: dict) -> frozenset[str]:
        """The ids of the rules `fact` fires (as a set: the table has no firing order)."""
        result = self._decision.evaluate(fact)["result"]
        return frozenset(row["rule"] for row in result)
