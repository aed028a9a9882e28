"""Content moderation: is a text recommending any of the harms we refuse?

The policy is data in ``rules/moderation/`` (one YAML file per category,
plus shared vocabulary); `Moderator.load` validates and compiles it into
regexes and a durable_rules ruleset.  `Moderator.moderate` splits a text
into sentences and judges each one::

    moderator = Moderator.load(Path("rules/moderation"), rejected)
    verdict = moderator.moderate("Have three pints and drive home.")
    verdict.flagged, verdict.categories  # True, ("impaired_driving",)

`content_gate` checks the catalogue and the corpus against the policy at
start-up.  `read_model` and `write_model` read and write the learned model's
file (``model.npz``) as one dictionary, for tools that inspect or retrain it.
Errors: `PolicyError` (a `DataError`: a policy file is invalid, the message
names the file and the field).  No web framework is imported.
"""

from ._gate import content_gate
from ._model import read_model, write_model
from ._moderator import Evidence, Moderator, SentenceVerdict, Verdict
from ._policy import CATEGORIES, PolicyError

__all__ = [
    "CATEGORIES",
    "Evidence",
    "Moderator",
    "PolicyError",
    "SentenceVerdict",
    "Verdict",
    "content_gate",
    "read_model",
    "write_model",
]
