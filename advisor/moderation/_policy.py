"""The moderation policy: YAML files in ``rules/moderation/``, validated and compiled.

``shared.yaml`` holds the vocabulary every category uses (people, amounts)
and the stances that defuse a harm (negation, condemnation); each category
has its own ``<category>.yaml`` with its word classes and the combinations
of classes ("harms") that make the harm.  Loading checks the files with
marshmallow schemas and then checks them against each other (every class a
harm names exists and has the right kind, references resolve, regexes
compile); any problem raises `PolicyError` naming the file and the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from .._data import DataError, digest_files, load_yaml
from .._durable import MAX_RULES
from ._language import Language
from ._model import LinearModel
from ._prefilter import Prefilter, cue_words
from ._syntax import PatternSyntaxError, alternatives, first_chars, guarded

__all__ = [
    "CATEGORIES",
    "Category",
    "Harm",
    "Policy",
    "PolicyError",
    "WordClass",
    "load_policy",
]

#: The moderation categories of the public contract, in its order.
CATEGORIES = (
    "impaired_driving",
    "substance_misuse",
    "illegal_drugs",
    "harassment",
    "violence",
    "bribery",
    "dishonesty",
    "self_punishment",
)

SHARED_FILE = "shared.yaml"
CASES_SUFFIX = ".cases.yaml"

#: What a word class is for:
#: harm      a feature that can make a harm; a sentence with one is evaluated
#: context   words a harm needs beside a harm feature (a person, a time)
#: stance    words that defuse a harm anywhere in the sentence
#: negation  a prohibition that defuses the words after it, in its clause
#: boundary  where a clause ends
#: condition a condition or reason clause whose own verb is negated ("if they don't call
#:           back"): a negation inside it reaches no further than its end
#: opener    a sentence opening that carries on the previous sentence
#: lead_in   a sentence (a short question) that the next one carries on
#: reported  words that say someone else suggests the act ("my cousin says", "told me to")
#: rejoinder a sentence opening that turns down what the sentence before reported
#: verdict   a sentence opening that calls what the sentence before told wrong, whoever
#:           suggested it ("That's harassment.", "Don't.")
#: adoption  a sentence opening that takes up what the sentence before told as advice
#: endorsement the writer's own sentence calling an act fine or safe ("… is fine", "won't
#:           hurt anyone"): the harm its word classes find there is taken up as advice
#: agreement a clause agreeing with someone who gave advice ("he's right"), which takes
#:           it up only right after the report, with no other voice between
#: instruction a sentence opening with a bare imperative: the text's own advice, not a report
#: part      a building block, only used inside other classes' patterns
KINDS = (
    "harm",
    "context",
    "stance",
    "negation",
    "boundary",
    "condition",
    "opener",
    "lead_in",
    "reported",
    "rejoinder",
    "verdict",
    "adoption",
    "endorsement",
    "agreement",
    "instruction",
    "part",
)
FEATURE_KINDS = ("harm", "context")
#: A class of harms shorter than this (its source, references expanded) is read
#: whole: its alternation costs less than looking for its blocks' keywords would.
BLOCK_MIN_SOURCE = 1000

_NAME = validate.Regexp(r"^[a-z][a-z0-9_]*$", error="must be a lower_snake_case name")
_ID = validate.Regexp(r"^[a-z][a-z0-9-]*$", error="must be a lower-case id (a-z, 0-9, -)")
_VERSION = validate.Regexp(r"^\d+\.\d+\.\d+$", error="must be a version like 1.0.0")
_TEXT = validate.Length(min=1)
_REFERENCE = re.compile(r"\{([a-z][a-z0-9_]*)\}")
_MALFORMED = re.compile(r"\{[^\d}][^}]*\}")  # braces that are neither a reference nor {m,n}


class PolicyError(DataError):
    """A moderation policy file is invalid; the message names the file and field."""


class WordClassSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    description = fields.String(validate=_TEXT)
    patterns = fields.List(fields.String(validate=_TEXT), required=True, validate=_TEXT)
    carry = fields.Boolean(load_default=False)
    absorbs_negation = fields.Boolean(load_default=False)
    window = fields.Integer(validate=validate.Range(min=1, max=20))


class HarmSchema(Schema):
    id = fields.String(required=True, validate=_ID)
    description = fields.String(required=True, validate=_TEXT)
    all = fields.List(fields.String(validate=_NAME), required=True, validate=_TEXT)
    any = fields.List(fields.String(validate=_NAME), load_default=list)
    sequence = fields.List(fields.String(validate=_NAME), load_default=list)
    unless = fields.List(fields.String(validate=_NAME), load_default=list)
    reason = fields.String(validate=_TEXT)
    matched = fields.String(validate=_ID, load_default=None)
    confirmed_by = fields.List(
        fields.String(validate=validate.OneOf(CATEGORIES)), load_default=list
    )

    @validates_schema
    def _check(self, data, **kwargs):
        if data.get("sequence") and len(data["sequence"]) < 2:
            raise ValidationError("a sequence needs at least two classes", "sequence")
        outside = set(data.get("sequence", ())) - set(data.get("all", ()))
        if outside:
            raise ValidationError(f"classes not in `all`: {sorted(outside)}", "sequence")


class ModelSchema(Schema):
    file = fields.String(required=True, validate=validate.Regexp(r"^[\w.-]+\.npz$"))
    description = fields.String(validate=_TEXT)
    confirm = fields.Float(load_default=None, validate=validate.Range(min=0, max=1))
    min_words = fields.Integer(load_default=1, validate=validate.Range(min=1))


_WORD = validate.Regexp(r"^[a-z]+(?:'[a-z]+)*$", error="must be a lower-case word (a-z, ')")


class LanguageSchema(Schema):
    description = fields.String(validate=_TEXT)
    min_words = fields.Integer(load_default=6, validate=validate.Range(min=1))
    min_other = fields.Integer(load_default=3, validate=validate.Range(min=1))
    min_letters = fields.Integer(load_default=12, validate=validate.Range(min=1))
    min_words_no_english = fields.Integer(load_default=4, validate=validate.Range(min=1))
    min_other_no_english = fields.Integer(load_default=2, validate=validate.Range(min=1))
    english = fields.List(fields.String(validate=_WORD), required=True, validate=_TEXT)
    other = fields.List(fields.String(validate=_WORD), required=True, validate=_TEXT)

    @validates_schema
    def _apart(self, data, **kwargs):
        for name in ("english", "other"):
            words = data.get(name, ())
            twice = sorted({w for w in words if words.count(w) > 1})
            if twice:
                raise ValidationError(f"listed twice: {twice}", name)
        both = sorted(set(data.get("english", ())) & set(data.get("other", ())))
        if both:
            raise ValidationError(f"also in `english`: {both}", "other")


class SharedSchema(Schema):
    title = fields.String(required=True, validate=_TEXT)
    description = fields.String(required=True, validate=_TEXT)
    version = fields.String(required=True, validate=_VERSION)
    negation_window = fields.Integer(load_default=6, validate=validate.Range(min=1, max=20))
    model = fields.Nested(ModelSchema, load_default=None)
    language = fields.Nested(LanguageSchema, load_default=None)
    classes = fields.Dict(
        keys=fields.String(validate=_NAME), values=fields.Nested(WordClassSchema), required=True
    )


class CategorySchema(Schema):
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    title = fields.String(required=True, validate=_TEXT)
    description = fields.String(required=True, validate=_TEXT)
    version = fields.String(required=True, validate=_VERSION)
    reason = fields.String(required=True, validate=_TEXT)
    defused_by = fields.List(fields.String(validate=_NAME), load_default=list)
    classes = fields.Dict(
        keys=fields.String(validate=_NAME), values=fields.Nested(WordClassSchema), load_default=dict
    )
    harms = fields.List(fields.Nested(HarmSchema), required=True, validate=_TEXT)


@dataclass(frozen=True)
class WordClass:
    """A named class of words and phrases, compiled to one regex."""

    name: str
    kind: str
    path: Path
    description: str | None
    patterns: tuple[str, ...]
    carry: bool  # a sentence that opens by pointing back inherits its matches
    absorbs_negation: bool  # a negation word inside a match is part of the phrase
    window: int | None  # a negation's reach in words, when not the shared one
    source: str  # the patterns, references expanded, as one regex
    first: frozenset[str] | None = None  # the characters a match can start with, when known
    #: The class cut into blocks of its patterns' top-level alternatives, in order,
    #: each compiled as `regex` is (`Prefilter.blocks`); empty when it is read whole.
    blocks: tuple[re.Pattern, ...] = ()
    #: The blocks that may match anywhere (the others need keywords: `Prefilter.alive`).
    always: tuple[int, ...] = ()

    @cached_property
    def regex(self) -> re.Pattern:
        """The compiled `source`, matching whole words only.  Loading compiles
        it for every class but the parts, which are only matched inside the
        classes that refer to them, and those cut into `blocks`, which the
        first pass matches block by block (one block is the whole class)."""
        if len(self.blocks) == 1:
            return self.blocks[0]
        return _whole_words(self.source, self.first)


@dataclass(frozen=True)
class Harm:
    """A combination of word classes that makes a harm of one category."""

    category: str
    id: str
    description: str
    all: tuple[str, ...]
    any: tuple[str, ...]
    sequence: tuple[str, ...]
    unless: tuple[str, ...]
    reason: str
    matched: str | None
    #: Other categories whose score from the model confirms the harm as well as its own
    #: (where the model does not tell the two apart, as it does not someone else's
    #: prescription from an illegal drug).
    confirmed_by: tuple[str, ...] = ()

    @property
    def confirming(self) -> tuple[str, ...]:
        """The categories whose `confirm` score lets the harm stand."""
        return (self.category, *self.confirmed_by)

    @property
    def rule_id(self) -> str:
        return f"{self.category}__{self.id.replace('-', '_')}"

    @property
    def any_key(self) -> str:
        """The fact property saying one of `any` is present."""
        return f"any__{self.rule_id}"

    @property
    def sequence_key(self) -> str:
        """The fact property saying the `sequence` classes occur in order."""
        return f"seq__{self.rule_id}"

    @property
    def features(self) -> tuple[str, ...]:
        """Every class whose words are evidence for this harm."""
        return tuple(dict.fromkeys((*self.all, *self.any)))


@dataclass(frozen=True)
class Category:
    id: str
    path: Path
    title: str
    description: str
    version: str
    reason: str
    defused_by: tuple[str, ...]
    harms: tuple[Harm, ...]


@dataclass(frozen=True)
class Policy:
    classes: dict[str, WordClass]
    categories: dict[str, Category]  # in CATEGORIES order
    negation_window: int
    digest: str
    prefilter: Prefilter  # which sentences could hold which harms
    #: For the classes of kind `reported`: words one of which each match holds
    #: (`_prefilter.cue_words`), None when unknown; a sentence without them is not
    #: searched.
    cues: dict[str, frozenset[str] | None]
    kinds: dict[str, tuple[str, ...]]  # class names by kind
    absorbing: tuple[str, ...]  # classes whose phrases may hold a negation word
    model: LinearModel | None = None  # the learned second opinion, when declared
    confirm: dict[str, float] | None = None  # the model score a rule's harm needs
    #: The fewest words (the model's tokens) of a text the model reads; a shorter
    #: text is judged by the word classes alone.
    model_min_words: int = 1
    #: How a text is told to be in another language than English, when declared.
    language: Language | None = None

    def of_kind(self, kind: str) -> tuple[str, ...]:
        return self.kinds.get(kind, ())


def policy_files(policy_dir: Path) -> list[Path]:
    """The policy files in `policy_dir`: shared first, then each category's."""
    return [policy_dir / SHARED_FILE, *(policy_dir / f"{c}.yaml" for c in CATEGORIES)]


def load_policy(policy_dir: Path) -> Policy:
    """Read, validate and compile the policy in `policy_dir`."""
    policy_dir = Path(policy_dir)
    if not policy_dir.is_dir():
        raise PolicyError(f"{policy_dir}: not a directory")
    files = policy_files(policy_dir)
    for path in files:
        if not path.is_file():
            raise PolicyError(f"{path}: missing policy file")
    expected = {p.name for p in files}
    for path in sorted(policy_dir.glob("*.yaml")):
        if path.name not in expected and not path.name.endswith(CASES_SUFFIX):
            raise PolicyError(f"{path}: not a policy file (expected one of {sorted(expected)})")

    shared = load_yaml(files[0], SharedSchema(), PolicyError)
    raw_classes: dict[str, tuple[Path, dict]] = {}
    _collect(raw_classes, files[0], shared["classes"])
    raw_categories = []
    for path in files[1:]:
        data = load_yaml(path, CategorySchema(), PolicyError)
        if data["category"] != path.stem:
            raise PolicyError(f"{path}: category: must be {path.stem!r}, the file's name")
        _collect(raw_classes, path, data["classes"])
        raw_categories.append((path, data))

    expanded = _Expander(raw_classes)
    classes = {
        name: _compile(name, path, spec, expanded) for name, (path, spec) in raw_classes.items()
    }
    categories = {data["category"]: _category(path, data, classes) for path, data in raw_categories}
    harms = [h for c in categories.values() for h in c.harms]
    needed = dict.fromkeys(n for h in harms for n in h.all)
    try:
        # The classes of harms are cut into blocks: the first pass reads their
        # keywords anyway, and a sentence with one of a class's keywords seldom
        # has the others'.
        pieces = {
            name: found
            for name in needed
            if len(classes[name].source) >= BLOCK_MIN_SOURCE
            and (found := expanded.pieces(name)) is not None
        }
        prefilter = Prefilter(
            {name: [expanded.tree(name)] for name in needed},
            {h.rule_id: h.all for h in harms},
            {name: [nodes for _, nodes in found] for name, found in pieces.items()},
        )
    except PolicyError:
        _check_patterns(raw_classes)  # an invalid regular expression is the first problem
        raise
    _compile_all(raw_classes, classes, expanded, pieces, prefilter)
    cues = {
        name: cue_words([expanded.tree(name)])
        for name, (_, spec) in raw_classes.items()
        if spec["kind"] in ("reported", "endorsement")  # looked for in every sentence
    }
    model, confirm = _model(policy_dir, files[0], shared["model"])
    if model is not None:
        files.append(policy_dir / shared["model"]["file"])
    language = shared["language"]
    return Policy(
        language=language
        and Language.of(
            language["english"],
            language["other"],
            language["min_words"],
            language["min_other"],
            language["min_letters"],
            language["min_words_no_english"],
            language["min_other_no_english"],
        ),
        model=model,
        confirm=confirm,
        model_min_words=shared["model"]["min_words"] if shared["model"] else 1,
        classes=classes,
        categories=categories,
        negation_window=shared["negation_window"],
        digest=digest_files(files, policy_dir),
        prefilter=prefilter,
        cues=cues,
        kinds={k: tuple(n for n, c in classes.items() if c.kind == k) for k in KINDS},
        absorbing=tuple(n for n, c in classes.items() if c.absorbs_negation),
    )


def _model(policy_dir: Path, path: Path, spec: Mapping | None):
    """The declared model and, per category, the score that confirms a rule's harm."""
    if spec is None:
        return None, None
    model_path = policy_dir / spec["file"]
    try:
        model = LinearModel.load(model_path)
    except FileNotFoundError:
        raise PolicyError(f"{path}: model.file: {spec['file']!r} does not exist") from None
    except (ValueError, KeyError, TypeError) as error:
        raise PolicyError(f"{model_path}: not a valid model: {error}") from None
    if model.categories != CATEGORIES:
        raise PolicyError(f"{model_path}: categories must be {list(CATEGORIES)}")
    # The policy's own level, or the model's (chosen with its thresholds on
    # writers it had not seen), or each category's threshold.
    level = spec["confirm"] if spec["confirm"] is not None else model.confirm
    confirm = {c: model.thresholds[c] if level is None else level for c in CATEGORIES}
    return model, confirm


def _collect(into: dict, path: Path, specs: Mapping) -> None:
    for name, spec in specs.items():
        if name in into:
            raise PolicyError(f"{path}: classes.{name}: already defined in {into[name][0].name}")
        into[name] = (path, spec)


class _Expander:
    """Expands ``{name}`` references (and "-ing" endings) in patterns into plain regex."""

    def __init__(self, raw_classes: Mapping[str, tuple[Path, dict]], check: bool = False):
        """`check`: compile each pattern on its own, to name the one that is invalid."""
        self._raw = raw_classes
        self._check = check
        self._done: dict[str, str] = {}
        self._trees: dict[str, tuple] = {}
        self._guarded: dict[str, list[tuple[str, list[tuple]]]] = {}

    def alternation(self, name: str, trail: tuple[str, ...] = ()) -> str:
        """The patterns of class `name`, expanded, as one non-capturing group."""
        if name in self._done:
            return self._done[name]
        path, spec = self._raw[name]
        if name in trail:
            chain = " -> ".join((*trail, name))
            raise PolicyError(f"{path}: classes.{name}.patterns: circular reference {chain}")
        fields = [f"classes.{name}.patterns.{index}" for index in range(len(spec["patterns"]))]
        trail = (*trail, name)
        # Expanded first: that checks the references (unknown ones, cycles).
        parts = [
            self.pattern(p, path, f, trail) for p, f in zip(spec["patterns"], fields, strict=True)
        ]
        if self._check:  # each pattern compiled on its own: the plain expansion will do
            self._done[name] = "(?:" + "|".join(parts) + ")"
            return self._done[name]
        try:
            # Parsed once: the class's tree, and its patterns with their look-behinds
            # guarded (`_syntax.guarded`), which match alike and sooner give up.
            found = [guarded(_dropped_g(p), self.tree) for p in spec["patterns"]]
        except PatternSyntaxError as error:
            self._trees[name] = PolicyError(f"{path}: classes.{name}.patterns: {error}")
        except PolicyError as error:  # a class it refers to is not read: nor is this one
            self._trees[name] = error
        else:
            self._trees[name] = ("group", [nodes for _, nodes in found])
            self._guarded[name] = found
            # Only a pattern given a guard is expanded again.
            parts = [
                part
                if source == _dropped_g(pattern)
                else self.pattern(source, path, field, trail, dropped=True)
                for part, pattern, (source, _), field in zip(
                    parts, spec["patterns"], found, fields, strict=True
                )
            ]
        self._done[name] = "(?:" + "|".join(parts) + ")"
        return self._done[name]

    def tree(self, name: str) -> tuple:
        """The patterns of class `name`, parsed (`_syntax`), as one group node."""
        self.alternation(name)  # checks references, cycles and syntax first
        tree = self._trees[name]
        if isinstance(tree, PolicyError):
            raise tree
        return tree

    def pieces(self, name: str) -> list[tuple[str, list[tuple]]] | None:
        """The top-level alternatives of the patterns of class `name`, in order,
        each expanded and parsed; None when its patterns are not parsed (syntax
        `_syntax` does not read)."""
        try:
            self.tree(name)
        except PolicyError:
            return None
        path, _ = self._raw[name]
        found = []
        for index, (source, nodes) in enumerate(self._guarded[name]):
            field = f"classes.{name}.patterns.{index}"
            split = alternatives(source)
            trees = nodes[0][1] if len(split) > 1 else [nodes]
            if len(trees) != len(split):
                raise PolicyError(f"{path}: {field}: its alternatives could not be told apart")
            found += [
                (self.pattern(piece, path, field, (name,), dropped=True), tree)
                for piece, tree in zip(split, trees, strict=True)
            ]
        return found

    def pattern(
        self,
        pattern: str,
        path: Path,
        field: str,
        trail: tuple[str, ...] = (),
        dropped: bool = False,
    ) -> str:
        """`pattern` expanded; `dropped`: its "-ing" endings are already `_dropped_g`'s."""
        if not dropped:
            pattern = _dropped_g(pattern)

        def insert(match):
            ref = match.group(1)
            if ref not in self._raw:
                raise PolicyError(f"{path}: {field}: unknown class {{{ref}}}")
            return self.alternation(ref, trail)

        source = _REFERENCE.sub(insert, pattern)
        if _MALFORMED.search(source):
            raise PolicyError(
                f"{path}: {field}: malformed reference {_MALFORMED.search(source).group()}"
            )
        if self._check:
            try:
                # Each referenced class is checked on its own: a stand-in will do here,
                # and compiling the expansion again for every pattern would be slow.
                re.compile(_REFERENCE.sub("(?:x)", pattern))
            except re.error as error:
                raise PolicyError(
                    f"{path}: {field}: invalid regular expression: {error}"
                ) from error
        return source


def _compile_all(
    raw_classes: Mapping[str, tuple[Path, dict]],
    classes: dict[str, WordClass],
    expanded: _Expander,
    pieces: Mapping[str, list[tuple[str, list[tuple]]]],
    prefilter: Prefilter,
) -> None:
    """Compile every class but the parts (matched only inside the classes that
    refer to them), those with `pieces` block by block (`Prefilter.blocks`),
    and check the parts' own patterns.  When a regex does not compile, the
    patterns are checked one by one to name the invalid one."""
    checked = _Expander(raw_classes, check=True)
    try:
        for name, word_class in classes.items():
            if word_class.kind == "part":
                checked.alternation(name)
            elif name in pieces:
                found = pieces[name]
                classes[name] = replace(
                    word_class,
                    first=_first_chars(expanded, name),
                    blocks=tuple(
                        _whole_words(
                            "|".join(source for source, _ in found[first:last]),
                            first_chars([("group", [nodes for _, nodes in found[first:last]])]),
                        )
                        for first, last in prefilter.blocks[name]
                    ),
                    always=prefilter.always[name],
                )
            else:
                classes[name] = replace(word_class, first=_first_chars(expanded, name))
                classes[name].regex  # noqa: B018 - compiled now, not during a request
    except re.error as error:
        _check_patterns(raw_classes)
        path = classes[name].path
        raise PolicyError(
            f"{path}: classes.{name}.patterns: invalid regular expression: {error}"
        ) from error


def _check_patterns(raw_classes: Mapping[str, tuple[Path, dict]]) -> None:
    """Compile each pattern on its own, raising `PolicyError` for the first that
    is not a valid regular expression."""
    checked = _Expander(raw_classes, check=True)
    for name in raw_classes:
        checked.alternation(name)


def _first_chars(expanded: _Expander, name: str) -> frozenset[str] | None:
    """The characters a match of class `name` can start with, when the
    patterns tell (None when they use syntax `_syntax` does not read)."""
    try:
        return first_chars([expanded.tree(name)])
    except PolicyError:
        return None


_ING = re.compile(r"(?<=[a-z])ing(?![a-z_}])")  # not inside a {reference}


def _dropped_g(pattern: str) -> str:
    """Let "-ing" also match the dropped-g spellings "-in" and "-in'"."""
    return _ING.sub("in[g']?", pattern)


# Not inside a word: no word character on both sides (punctuation may touch words).
_NOT_IN_WORD = r"(?!\B\w)"


def _whole_words(source: str, first: frozenset[str] | None = None) -> re.Pattern:
    """`source` as a regex matching whole words only.  With the characters
    `first` a match can start with, a position is ruled out by one look at
    its character before the alternatives are tried."""
    head = "" if first is None else "(?=[" + "".join(map(re.escape, sorted(first))) + "])"
    return re.compile(f"{head}{_NOT_IN_WORD}(?:{source}){_NOT_IN_WORD}")


def _compile(name: str, path: Path, spec: Mapping, expander: _Expander) -> WordClass:
    source = expander.alternation(name)
    return WordClass(
        name=name,
        kind=spec["kind"],
        path=path,
        description=spec.get("description"),
        patterns=tuple(spec["patterns"]),
        carry=spec["carry"],
        absorbs_negation=spec["absorbs_negation"],
        window=spec.get("window"),
        source=source,
    )


def _category(path: Path, data: Mapping, classes: Mapping[str, WordClass]) -> Category:
    category = data["category"]

    def need(names: Sequence[str], field: str, kinds: Sequence[str]) -> None:
        for index, name in enumerate(names):
            if name not in classes:
                raise PolicyError(f"{path}: {field}.{index}: unknown class {name!r}")
            if classes[name].kind not in kinds:
                raise PolicyError(
                    f"{path}: {field}.{index}: class {name!r} is a {classes[name].kind} class,"
                    f" expected {' or '.join(kinds)}"
                )

    need(data["defused_by"], "defused_by", ("stance",))
    harms = []
    seen = set()
    for index, spec in enumerate(data["harms"]):
        field = f"harms.{index}"
        if spec["id"] in seen:
            raise PolicyError(f"{path}: {field}.id: duplicate harm id {spec['id']!r}")
        seen.add(spec["id"])
        need(spec["all"], f"{field}.all", FEATURE_KINDS)
        need(spec["any"], f"{field}.any", FEATURE_KINDS)
        need(spec["unless"], f"{field}.unless", ("stance",))
        if index >= MAX_RULES - 1:
            raise PolicyError(f"{path}: harms: at most {MAX_RULES - 1} harms fit one rules session")
        if not any(classes[name].kind == "harm" for name in spec["all"]):
            raise PolicyError(f"{path}: {field}.all: needs at least one class of kind harm")
        harms.append(
            Harm(
                category=category,
                id=spec["id"],
                description=spec["description"],
                all=tuple(spec["all"]),
                any=tuple(spec["any"]),
                sequence=tuple(spec["sequence"]),
                unless=tuple(spec["unless"]),
                reason=spec.get("reason", data["reason"]),
                matched=spec["matched"],
                confirmed_by=tuple(spec["confirmed_by"]),
            )
        )
    return Category(
        id=category,
        path=path,
        title=data["title"],
        description=data["description"],
        version=data["version"],
        reason=data["reason"],
        defused_by=tuple(data["defused_by"]),
        harms=tuple(harms),
    )
