"""A demo variant with realistic personal data in every free-text field an organisation
writes or a provider returns: policy and rule names, group names, exception reasons and
approvers, the organisation's contact, identity links, excluded accounts, the config's
comments. The security tests run the planted-secret and pseudonymisation searches on it
(``PEOPLE`` and ``ADDRESSES`` must appear in no byte of a pseudonymised edition)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from auditor.model import AccountKind, MethodStatus, PolicyState
from connectors.sandbox.sample_org import DOMAIN, SampleOrg

PEOPLE = ("Carol Petit", "Jean-Marc Lefèvre", "Inès Fontaine")
ADDRESSES = (f"carol.petit@{DOMAIN}", f"jean-marc.lefevre@{DOMAIN}", "ines.fontaine@cabinet-conseil.example")
COMMENT = "# Reviewed by Carol Petit (RSSI) and Jean-Marc Lefèvre (DPO), 2026-11-02\n"


def with_people(org: SampleOrg) -> SampleOrg:
    """The same organisation, its enforced policies and rules (Entra, Okta) and its
    groups named after people, as administrators name them."""
    sources = dict(org.sources)
    for name in ("entra", "okta"):
        truth = sources[name]
        policies = list(truth.policies)
        for i, policy in enumerate(policies):
            if policy.state is PolicyState.ENFORCED:
                renamed = f"{policy.name} except Carol Petit"
                rules = tuple(
                    replace(r, name=f"{r.name} (not Carol Petit, asked by {ADDRESSES[1]})") for r in policy.rules
                )
                policies[i] = replace(policy, name=renamed, rules=rules)
                break
        sources[name] = replace(truth, policies=tuple(policies))
    groups = {src: dict(names) for src, names in org.group_names.items()}
    for names in groups.values():
        for gid in list(names)[:1]:
            names[gid] = "Équipe de Carol Petit"
    return replace(org, sources=sources, group_names=groups)


def add_people(config: dict[str, Any], org: SampleOrg) -> dict[str, Any]:
    """The config with people in its contact, exceptions, identity links and exclusions."""
    entra = org.truth("entra")
    humans = [
        a
        for a in entra.accounts
        if a.enabled
        and a.kind is AccountKind.HUMAN
        and not a.privileged
        and not any(m.status is MethodStatus.ACTIVE for m in a.methods)
    ]
    out = dict(config)
    out["organisation"] = {**config["organisation"], "contact": ADDRESSES[0]}
    exceptions = list(config.get("exceptions", []))
    if humans:
        exceptions.append(
            {
                "id": "EXC-2026-021",
                "account": humans[-1].principal,
                "portals": ["app-claims"],
                "reason": f"{PEOPLE[0]} shares the claims terminal with {PEOPLE[2]} until the FIDO2 keys arrive",
                "approved_by": f"{PEOPLE[1]} <{ADDRESSES[1]}>",
                "expires": "2027-03-31",
            }
        )
    out["exceptions"] = exceptions
    okta = org.truth("okta")
    if humans and okta.accounts:
        out["identity"] = {"links": [{"principal": okta.accounts[0].principal, "same_as": humans[0].principal}]}
    out["policy"] = {**config.get("policy", {}), "excluded_accounts": [ADDRESSES[2]]}
    return out
