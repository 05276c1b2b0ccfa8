"""Pseudonymisation of account identifiers, once, before any renderer sees the context.

Principals, display names and account ids are replaced by keyed HMAC-SHA-256 tokens
(key: ``options.pseudonym_key``), everywhere a renderer can reach them: the snapshot
(accounts, access, policy scopes, sign-ins, issues), the coverage rows, the findings
(their free text included), the exceptions register and the effective config text. The
same identifier always gives the same token under the same key, so the outputs agree
with each other and the attached snapshot still re-evaluates to the same findings
(principals keep their domain: it is the organisation's, and rules may look at it).

Free text written by people can name anyone, account or not ("MFA except Carol Petit"),
and no list of accounts finds such a name. So every free-text field that can hold a
person is replaced whole, wherever it is repeated (SECURITY.md lists them):

- policy and rule names → ``policy-<token>`` (the same name, the same token);
- an exception's reason → "withheld", its approver → ``approver-<token>``;
- the organisation's contact → a principal token (or "withheld" if not an address);
- every e-mail address in any free text → a principal token, known or not;
- the attached configuration is written again from its data with person fields
  replaced and its comments dropped.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from auditor.evidence.run_artefacts import RunArtefacts
from auditor.interfaces import RenderError, ReportContext, ReportOptions
from auditor.model import (
    Account,
    AccountId,
    AuditResult,
    Coverage,
    ExceptionStatus,
    Finding,
    Policy,
    PolicyRule,
    Reconciliation,
    Scope,
    Snapshot,
    SourceIssue,
    SourceSnapshot,
    UnreadableRecord,
)

MARKER = "pseudonymised"  # key set in ReportContext.extra once done
WITHHELD = "(withheld in the pseudonymised edition)"

# An e-mail address anywhere in a text: tokenised even when no account has it.
_NOT_IN_ADDRESS = "\\s@<>()\\[\\]{},;:\"'`/|=&?"
_EMAIL = re.compile(  # any script, combining marks included: an address is not only ASCII
    f"[^{_NOT_IN_ADDRESS}]+@(?:[^{_NOT_IN_ADDRESS}.]+\\.)+[^\\W\\d_]{{2,}}"
)
# Config keys whose values are people (tokenised as principals) or people's words (withheld).
_CONFIG_PRINCIPALS = frozenset({"account", "principal", "same_as", "excluded_accounts", "delegated_admin"})
_CONFIG_PERSON_TEXT = frozenset({"reason", "approved_by", "contact"})
_MIN_PHRASE = 3  # shorter "names" would replace ordinary words
# A value quoted in a parse error ("got 'Carol Petit'") is the record's own data.
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")

# Words of free text: anything between separators; e-mail addresses stay whole.
_WORD = re.compile(r"[^\s,;:()\[\]{}<>\"'/=&?|`]+")
_MAX_NAME_WORDS = 5


class Pseudonymiser:
    """Keyed, deterministic replacement of account identifiers."""

    def __init__(self, key: bytes) -> None:
        if not key:
            raise RenderError("report.pseudonym_key: an empty key would make the tokens guessable")
        self._key = key
        self._tokens: dict[str, str] = {}  # any known identifier (principals case-folded) -> token
        self._names: dict[str, str] = {}  # display name -> token
        self._name_firsts: set[str] = set()
        self._phrases: dict[str, str] = {}  # whole free-text fields -> their replacement
        self._phrase_re: re.Pattern[str] | None = None
        self._memo: dict[str, str] = {}  # text() results: coverage reasons repeat a lot

    def _digest(self, kind: str, value: str) -> str:
        return hmac.new(self._key, f"{kind}\x00{value}".encode(), hashlib.sha256).hexdigest()

    def principal(self, value: str) -> str:
        folded = value.casefold()
        token = self._tokens.get(folded)
        if token is None:
            local, at, domain = folded.rpartition("@")
            digest = self._digest("principal", folded)[:20]
            token = f"u-{digest}@{domain}" if at and local else f"u-{digest}"
            self._tokens[folded] = token
            self._tokens[token] = token
        return token

    def account_id(self, value: str) -> str:
        token = self._tokens.get(value)
        if token is None:
            token = f"id-{self._digest('account', value)[:20]}"
            self._tokens[value] = token
            self._tokens[token] = token
        return token

    def name(self, value: str) -> str:
        if value == "":
            return value
        token = self._names.get(value)
        if token is None:
            token = f"name-{self._digest('name', value)[:12]}"
            self._names[value] = token
            self._memo.clear()
            first = value.split(" ", 1)[0]
            self._name_firsts.add(first)
        return token

    def label(self, kind: str, value: str) -> str:
        """A whole free-text field (a policy name, an approver) → ``kind-<token>``, and
        the same replacement wherever the text is repeated inside other text."""
        if not value:
            return value
        token = f"{kind}-{self._digest(kind, value)[:12]}"
        self.phrase(value, token)
        return token

    def phrase(self, value: str, replacement: str) -> None:
        if len(value) >= _MIN_PHRASE and self._phrases.get(value) != replacement:
            self._phrases[value] = replacement
            self._phrase_re = None
            self._memo.clear()

    def contact(self, value: str) -> str:
        address = value.strip()
        return self.principal(address) if _EMAIL.fullmatch(address) else (WITHHELD if address else address)

    def _replace_phrases(self, text: str) -> str:
        if not self._phrases:
            return text
        if self._phrase_re is None:
            alternatives = "|".join(re.escape(v) for v in sorted(self._phrases, key=len, reverse=True))
            self._phrase_re = re.compile(f"(?<![\\w-])(?:{alternatives})(?![\\w-])")
        return self._phrase_re.sub(lambda m: self._phrases[m.group()], text)

    def record(self, value: str) -> str:
        """An unreadable record's name: its e-mail or id, tokenised like an account's."""
        return self.principal(value) if _EMAIL.fullmatch(value.strip()) else self.account_id(value)

    def record_reason(self, text: str) -> str:
        """Why a record was unreadable: values it quotes are withheld (they are the
        record's data, never learnt as an account), the rest through ``text``."""
        return self.text(_QUOTED.sub("'…'", text))

    def learn(self, account: Account) -> None:
        self.account_id(account.id)
        self.principal(account.principal)
        self.name(account.display_name)

    def text(self, text: str, *, names: Iterable[str] = ()) -> str:
        """Free text: replace every known identifier word, and display names (one or
        more words) whether known globally or given in ``names``."""
        if not text:
            return text
        names = tuple(names)
        memo_key = text if not names else None
        if memo_key is not None and memo_key in self._memo:
            return self._memo[memo_key]
        original = text
        text = self._replace_phrases(text)
        for name in names:
            if name and name in text:
                text = text.replace(name, self.name(name))
        text = _EMAIL.sub(lambda m: self.principal(m.group()), text)
        result = self._words(text)
        if memo_key is not None:
            self._memo[original] = result
        return result

    def _words(self, text: str) -> str:
        words = list(_WORD.finditer(text))
        out: list[str] = []
        pos = 0
        i = 0
        while i < len(words):
            word = words[i]
            replaced = self._replace_name(text, words, i)
            if replaced is not None:
                end, token = replaced
                out.append(text[pos : words[i].start()])
                out.append(token)
                pos = words[end].end()
                i = end + 1
                continue
            value = word.group()
            found = self._tokens.get(value) or self._tokens.get(value.casefold())
            if found is not None and found != value:
                out.append(text[pos : word.start()])
                out.append(found)
                pos = word.end()
            i += 1
        out.append(text[pos:])
        return "".join(out)

    def _replace_name(self, text: str, words: list[re.Match[str]], i: int) -> tuple[int, str] | None:
        if words[i].group() not in self._name_firsts:
            return None
        # Longest run of words separated by single spaces that is a known display name.
        best: tuple[int, str] | None = None
        for j in range(i, min(i + _MAX_NAME_WORDS, len(words))):
            if j > i and text[words[j - 1].end() : words[j].start()] != " ":
                break
            token = self._names.get(text[words[i].start() : words[j].end()])
            if token is not None:
                best = (j, token)
        return best

    def mapping(self, values: Mapping[str, str], *, names: Iterable[str] = ()) -> dict[str, str]:
        names = tuple(names)
        return {k: self.text(v, names=names) for k, v in values.items()}


# --- the model --------------------------------------------------------------------------


def _scope(p: Pseudonymiser, scope: Scope) -> Scope:
    if not scope.include_users and not scope.exclude_users:
        return scope
    return replace(
        scope,
        include_users=tuple(AccountId(p.account_id(u)) for u in scope.include_users),
        exclude_users=tuple(AccountId(p.account_id(u)) for u in scope.exclude_users),
    )


def _policy(p: Pseudonymiser, policy: Policy) -> Policy:
    rules: tuple[PolicyRule, ...] = tuple(
        replace(
            r,
            scope=_scope(p, r.scope),
            name=p.label("policy", r.name),
            conditions=tuple(replace(c, detail=p.text(c.detail)) for c in r.conditions),
        )
        for r in policy.rules
    )
    return replace(policy, rules=rules, name=p.label("policy", policy.name))


def _account(p: Pseudonymiser, a: Account) -> Account:
    return replace(
        a,
        id=AccountId(p.account_id(a.id)),
        principal=p.principal(a.principal),
        display_name=p.name(a.display_name),
        attributes=p.mapping(a.attributes),
    )


def _source(p: Pseudonymiser, s: SourceSnapshot) -> SourceSnapshot:
    return replace(
        s,
        accounts=tuple(_account(p, a) for a in s.accounts),
        access=tuple(replace(x, account_id=AccountId(p.account_id(x.account_id))) for x in s.access),
        policies=tuple(_policy(p, pol) for pol in s.policies),
        sign_ins=tuple(replace(x, account_id=AccountId(p.account_id(x.account_id))) for x in s.sign_ins),
        issues=tuple(_issue(p, i) for i in s.issues),
        unreadable=tuple(
            UnreadableRecord(record=p.record(u.record), reason=p.record_reason(u.reason)) for u in s.unreadable
        ),
        raw_digests=tuple(replace(d, endpoint=p.text(d.endpoint)) for d in s.raw_digests),
    )


def _issue(p: Pseudonymiser, issue: SourceIssue) -> SourceIssue:
    record = None if issue.record is None else p.text(issue.record)
    return replace(issue, message=p.text(issue.message), record=record)


def _finding(p: Pseudonymiser, f: Finding, names: Mapping[tuple[str, str], str]) -> Finding:
    own = (names.get((f.source, f.account_id), ""),) if f.account_id is not None else ()
    return replace(
        f,
        account_id=None if f.account_id is None else AccountId(p.account_id(f.account_id)),
        principal=None if f.principal is None else p.principal(f.principal),
        message=p.text(f.message, names=own),
        # The same replacements inside the parameters, so the French text of a message
        # still matches its English one (else the report falls back to English).
        message_params=tuple((k, p.text(v, names=own)) for k, v in f.message_params),
        evidence=p.mapping(f.evidence, names=own),
        remediation=p.text(f.remediation, names=own),
    )


def _exception(p: Pseudonymiser, e: ExceptionStatus) -> ExceptionStatus:
    entry = replace(
        e.entry,
        account=p.principal(e.entry.account),
        reason=WITHHELD if e.entry.reason else "",
        approved_by=p.label("approver", e.entry.approved_by),
    )
    return replace(e, entry=entry)


def _learn_free_text(p: Pseudonymiser, ctx: ReportContext) -> None:
    """Register every whole field that is replaced, before any text is rewritten: the
    same words inside a coverage reason or a finding are then replaced the same way."""
    for source in ctx.snapshot.sources:
        for policy in source.policies:
            p.label("policy", policy.name)
            for rule in policy.rules:
                p.label("policy", rule.name)
    for exc in ctx.result.exceptions:
        p.principal(exc.entry.account)
        p.label("approver", exc.entry.approved_by)
        p.phrase(exc.entry.reason, WITHHELD)


def _reconciliation(p: Pseudonymiser, r: Reconciliation) -> Reconciliation:
    unreadable: dict[str, int] = {}
    for reason, count in r.unreadable.items():
        key = p.record_reason(reason)
        unreadable[key] = unreadable.get(key, 0) + count
    return replace(r, unreadable=dict(sorted(unreadable.items())))


_SIGNOFF_ROLES = frozenset({"prepared", "reviewed", "approved"})


def _in_engine_order(rows: Iterable[Coverage]) -> tuple[Coverage, ...]:
    """The rows as the engine gives them for the pseudonymised snapshot: sources in their
    order, each source's accesses sorted by (account id, portal id). Tokens sort unlike
    the real ids, and the attached snapshot must re-evaluate to these very rows (verify
    checks the coverage file's digest the integrity page prints)."""
    order: dict[str, int] = {}
    listed = list(rows)
    for c in listed:
        order.setdefault(c.source, len(order))
    return tuple(sorted(listed, key=lambda c: (order[c.source], c.account_id, c.portal_id)))


def _config_text(p: Pseudonymiser, text: str) -> str:
    """The configuration written again from its data: people's fields replaced, other
    strings through ``text``; comments cannot be kept (they may name anyone)."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return f"# {WITHHELD}: the configuration could not be read to pseudonymise it\n"

    def walk(value: Any, key: str, parent: str = "") -> Any:
        if isinstance(value, Mapping):
            return {k: walk(v, str(k), key) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, key, parent) for v in value]
        if not isinstance(value, str):
            return value
        if key in _CONFIG_PRINCIPALS:
            return p.principal(value)
        if key == "approved_by":
            return p.label("approver", value)
        if key == "name" and parent in _SIGNOFF_ROLES:
            return p.label("signer", value)  # the sign-off's people, as the pages show them
        if key == "contact":
            return p.contact(value)
        if key in _CONFIG_PERSON_TEXT:
            return WITHHELD
        return p.text(value)

    header = "# Pseudonymised edition: people's fields replaced, comments dropped.\n"
    return header + yaml.safe_dump(walk(data, ""), sort_keys=False, allow_unicode=True)


def pseudonymise(ctx: ReportContext, key: bytes) -> ReportContext:
    p = Pseudonymiser(key)
    names: dict[tuple[str, str], str] = {}
    for source in ctx.snapshot.sources:
        for account in source.accounts:
            p.learn(account)
            names[(source.source, account.id)] = account.display_name
    _learn_free_text(p, ctx)
    snapshot: Snapshot = replace(ctx.snapshot, sources=tuple(_source(p, s) for s in ctx.snapshot.sources))
    result: AuditResult = replace(
        ctx.result,
        coverage=_in_engine_order(_coverage(p, c) for c in ctx.result.coverage),
        findings=tuple(_finding(p, f, names) for f in ctx.result.findings),
        exceptions=tuple(_exception(p, e) for e in ctx.result.exceptions),
        reconciliation=tuple(_reconciliation(p, r) for r in ctx.result.reconciliation),
    )
    # Only what is known to be free of identifiers, or made so, is carried over: the
    # snapshot digest is the original snapshot's (this one is another document), and any
    # extra a renderer does not know could hold identifiers.
    extra: dict[str, Any] = {MARKER: True}
    if "trend" in ctx.extra:
        extra["trend"] = ctx.extra["trend"]  # periods, run ids and counts only
    since = _since_last(p, ctx.extra.get("since_last"))
    if since is not None:
        extra["since_last"] = since
    keys = ctx.extra.get("persisting_keys")
    if keys:
        # Finding keys name accounts: the same tokens as the findings they match.
        extra["persisting_keys"] = frozenset((r, s, p.account_id(a) if a else a, o) for r, s, a, o in keys)
    return replace(
        ctx,
        snapshot=snapshot,
        artefacts=RunArtefacts(snapshot),  # another document: its own file, encoded when asked
        result=result,
        contact=p.contact(ctx.contact),
        config_text=_config_text(p, ctx.config_text),
        extra=extra,
        options=_options(p, ctx.options),
    )


def _options(p: Pseudonymiser, options: ReportOptions) -> ReportOptions:
    """The sign-off names people, and a response's action may quote an identity: the
    pseudonymised edition shows tokens for the signers and passes actions through
    ``text``, exactly as the attached config is rewritten (verify re-renders from it).
    Owners are roles or teams ("RSSI (CISO)"), kept."""
    return replace(
        options,
        signoff=tuple(replace(s, name=p.label("signer", s.name)) for s in options.signoff),
        responses=tuple(
            replace(
                r,
                action=p.text(r.action),
                account=p.principal(r.account) if r.account else r.account,
            )
            for r in options.responses
        ),
    )


def _since_last(p: Pseudonymiser, value: Any) -> Any:
    """The "since the last report" items with the same tokens as the findings. Messages
    are dropped: a resolved finding may name an account this run no longer holds, whose
    display name the pseudonymiser never learnt."""
    from auditor.queries.history import FindingRef, SinceLast

    if not isinstance(value, SinceLast):
        return None

    def ref(r: FindingRef) -> FindingRef:
        return replace(
            r,
            account_id=None if r.account_id is None else p.account_id(r.account_id),
            principal=None if r.principal is None else p.principal(r.principal),
            message="",
        )

    return replace(
        value,
        top_new=tuple(ref(r) for r in value.top_new),
        top_resolved=tuple(ref(r) for r in value.top_resolved),
        top_persisting=tuple(ref(r) for r in value.top_persisting),
    )


def _coverage(p: Pseudonymiser, c: Coverage) -> Coverage:
    return replace(c, account_id=AccountId(p.account_id(c.account_id)), reason=p.text(c.reason))


def prepare(ctx: ReportContext) -> ReportContext:
    """The context every renderer works on: pseudonymised when the options say so.

    Idempotent; the pipeline may call it once, and the renderers call it again for
    safety (the result is kept in the context's own ``made``, so several renderers of
    one context pay once and nothing outlives the context)."""
    if not ctx.options.pseudonymise or ctx.extra.get(MARKER):
        return ctx
    done: ReportContext | None = ctx.made.pseudonymised
    if done is not None:
        return done
    if ctx.options.pseudonym_key is None:
        raise RenderError("report.pseudonym_key: required when report.pseudonymise is true")
    done = pseudonymise(ctx, ctx.options.pseudonym_key.reveal().encode("utf-8"))
    ctx.made.pseudonymised = done
    return done
