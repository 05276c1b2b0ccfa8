"""The framework references rules cite, as data: what each says, in English and in the
official French wording, and which rules cite which.

Kept apart from the rule logic (``auditor.engine.rules.catalogue``) so that a citation can be
corrected without touching a rule. Each citation was read in its text before being
written here (2026-12); the wording is ours, the article numbers are the texts'.

- GDPR: Regulation (EU) 2016/679, Art. 32(1)(b) (confidentiality and integrity of
  processing systems; MFA is not named) and Art. 9(1) (health data is a special category).
- NIS2: Directive (EU) 2022/2555, Art. 21(2)(j) ("multi-factor authentication or
  continuous authentication solutions … where appropriate"); Implementing Regulation
  (EU) 2024/2690, Annex points 11.3.2(a) (MFA for privileged and system administration
  accounts), 11.6.2(a) (strength appropriate to the asset's classification) and 11.7
  (multi-factor authentication).
- DORA: Regulation (EU) 2022/2554, Art. 9(4)(d) (strong authentication mechanisms);
  Delegated Regulation (EU) 2024/1774, Art. 21, first paragraph, point (f) (access control
  policy, authentication methods): (i) commensurate with the classification and the risk
  profile, (ii) strong authentication for remote access to the network, privileged access and
  access to ICT assets supporting critical or important functions or publicly accessible
  (French: "art. 21, premier alinéa, point f) i) et ii)"). Art. 21 is one paragraph of points:
  the text itself cites its own points so ("Article 21, first paragraph, point (c)", Art. 20).
- ISO/IEC 27001:2022 Annex A 5.17 (authentication information), 5.18 (access rights:
  review and removal), 8.5 (secure authentication).
- NIST SP 800-63B-4 (2025): AAL2 / AAL3, restricted authenticators (PSTN: SMS, voice),
  phishing resistance.
- CIS Controls v8.1: 5.3 (disable dormant accounts), 6.3 (MFA for externally-exposed
  applications), 6.4 (MFA for remote network access), 6.5 (MFA for administrative access).
- PCI DSS v4.0.1 (v4.0 is retired): 8.4.1, 8.4.2, 8.4.3 (where MFA is required) and 8.5.1
  (MFA systems: no replay, no bypass, two different factor types).
- CNIL: délibération n° 2025-019 du 20 mars 2025 (MFA recommendation; a password followed
  by a code received by e-mail is two-step verification, not MFA) and its 2025 instructions
  to secure large databases (MFA for remote access).
- PGSSI-S: référentiel d'identification électronique, approved by the arrêté du 28 mars 2022.
- ANSSI: ANSSI-PG-078, recommendations on multi-factor authentication and passwords,
  v2.0 (October 2021).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from auditor.model import FrameworkRef


@dataclass(frozen=True, slots=True)
class Framework:
    key: str  # what ``report.frameworks`` names
    name_en: str
    name_fr: str
    order: int  # the references table lists frameworks in this order (EU law first)


@dataclass(frozen=True, slots=True)
class Citation:
    """One article or control: the reference findings carry (``ref``) and its display."""

    framework: str  # a ``Framework.key``
    ref: FrameworkRef
    where_en: str
    where_fr: str
    says_en: str
    says_fr: str

    def where(self, language: str) -> str:
        return self.where_fr if language == "fr" else self.where_en

    def says(self, language: str) -> str:
        return self.says_fr if language == "fr" else self.says_en


FRAMEWORKS: tuple[Framework, ...] = (
    Framework("gdpr", "GDPR: Regulation (EU) 2016/679", "RGPD\u00a0: règlement (UE) 2016/679", 10),
    Framework("nis2", "NIS2: Directive (EU) 2022/2555", "NIS 2\u00a0: directive (UE) 2022/2555", 20),
    Framework("dora", "DORA: Regulation (EU) 2022/2554", "DORA\u00a0: règlement (UE) 2022/2554", 30),
    Framework("cnil", "CNIL (France)", "CNIL", 40),
    Framework(
        "pgssi-s",
        "PGSSI-S (France, health)",
        "PGSSI-S (santé)",
        50,
    ),
    Framework("anssi", "ANSSI (France)", "ANSSI", 60),
    Framework("iso27001", "ISO/IEC 27001:2022", "ISO/IEC 27001:2022", 70),
    Framework("nist", "NIST SP 800-63B-4", "NIST SP 800-63B-4", 80),
    Framework("cis", "CIS Controls v8.1", "CIS Controls v8.1", 90),
    Framework("pci", "PCI DSS v4.0.1", "PCI DSS v4.0.1", 100),
)
FRAMEWORK_KEYS = tuple(f.key for f in FRAMEWORKS)

# The references findings carry: the names the CSV, JSON and OCSF outputs print.
GDPR_32 = FrameworkRef("GDPR", "Art. 32(1)(b)")
GDPR_9 = FrameworkRef("GDPR", "Art. 9(1)")
NIS2_21 = FrameworkRef("NIS2 Directive", "Art. 21(2)(j)")
NIS2_IR = FrameworkRef("Implementing Regulation (EU) 2024/2690", "Annex 11.3.2(a), 11.6.2(a), 11.7")
DORA_9 = FrameworkRef("DORA", "Art. 9(4)(d)")
DORA_RTS = FrameworkRef("Delegated Regulation (EU) 2024/1774", "Art. 21, first paragraph, point (f)")
ISO_A517 = FrameworkRef("ISO/IEC 27001:2022", "Annex A 5.17")
ISO_A518 = FrameworkRef("ISO/IEC 27001:2022", "Annex A 5.18")
ISO_A85 = FrameworkRef("ISO/IEC 27001:2022", "Annex A 8.5")
NIST_AAL2 = FrameworkRef("NIST SP 800-63B-4", "AAL2")
NIST_AAL3 = FrameworkRef("NIST SP 800-63B-4", "AAL3")
NIST_RESTRICTED = FrameworkRef("NIST SP 800-63B-4", "restricted authenticators")
CIS_53 = FrameworkRef("CIS Controls v8.1", "5.3")
CIS_63 = FrameworkRef("CIS Controls v8.1", "6.3")
CIS_64 = FrameworkRef("CIS Controls v8.1", "6.4")
CIS_65 = FrameworkRef("CIS Controls v8.1", "6.5")
PCI_84 = FrameworkRef("PCI DSS v4.0.1", "8.4.2")
PCI_841 = FrameworkRef("PCI DSS v4.0.1", "8.4.1")
PCI_851 = FrameworkRef("PCI DSS v4.0.1", "8.5.1")
CNIL_MFA = FrameworkRef("CNIL", "Délibération n° 2025-019")
CNIL_DB = FrameworkRef("CNIL", "Large databases (2025)")
PGSSI_S = FrameworkRef("PGSSI-S", "Référentiel d'identification électronique")
ANSSI_MFA = FrameworkRef("ANSSI", "ANSSI-PG-078")

CITATIONS: tuple[Citation, ...] = (
    Citation(
        "gdpr",
        GDPR_32,
        "Art. 32(1)(b)",
        "art. 32, paragraphe 1, point b)",
        "Security of processing: the ability to ensure the ongoing confidentiality and integrity of "
        "processing systems and services. MFA is not named; it is one of the measures the CNIL expects.",
        "Sécurité du traitement\u00a0: des moyens permettant de garantir la confidentialité et l'intégrité "
        "constantes des systèmes et des services de traitement. La MFA n'y est pas nommée\u202f; la CNIL "
        "la compte parmi les mesures attendues.",
    ),
    Citation(
        "gdpr",
        GDPR_9,
        "Art. 9(1)",
        "art. 9, paragraphe 1",
        "Data concerning health is a special category of personal data: portals holding it are classified high.",
        "Les données concernant la santé sont une catégorie particulière de données\u00a0: les portails "
        "qui en traitent sont classés très sensibles.",
    ),
    Citation(
        "nis2",
        NIS2_21,
        "Art. 21(2)(j)",
        "art. 21, paragraphe 2, point j)",
        "Cybersecurity risk-management measures include the use of multi-factor or continuous "
        "authentication solutions, where appropriate.",
        "Les mesures de gestion des risques comprennent l'utilisation de solutions "
        "d'authentification à plusieurs facteurs ou d'authentification continue, selon les besoins.",
    ),
    Citation(
        "nis2",
        NIS2_IR,
        "Implementing Regulation (EU) 2024/2690, Annex, points 11.3.2(a), 11.6.2(a) and 11.7",
        "Règlement d'exécution (UE) 2024/2690, annexe, points 11.3.2 a), 11.6.2 a) et 11.7",
        "Strong authentication such as MFA for privileged and administration accounts; "
        "authentication strength appropriate to the classification of the asset; multi-factor "
        "authentication according to that classification.",
        "Authentification forte, telle que la MFA, pour les comptes à privilèges et "
        "d'administration\u202f; une force d'authentification adaptée à la classification de l'actif\u202f; "
        "une authentification à plusieurs facteurs selon cette classification.",
    ),
    Citation(
        "dora",
        DORA_9,
        "Art. 9(4)(d)",
        "art. 9, paragraphe 4, point d)",
        "Policies and protocols for strong authentication mechanisms, based on relevant standards "
        "and dedicated control systems.",
        "Des politiques et protocoles relatifs à des mécanismes d'authentification forte, fondés "
        "sur des normes pertinentes et des systèmes de contrôle spécifiques.",
    ),
    Citation(
        "dora",
        DORA_RTS,
        "Delegated Regulation (EU) 2024/1774, Art. 21, first paragraph, point (f)(i) and (ii)",
        "Règlement délégué (UE) 2024/1774, art. 21, premier alinéa, point f) i) et ii)",
        "Access control policy, authentication methods: commensurate with the classification and "
        "the risk profile of ICT assets; strong authentication for remote access to the network, "
        "for privileged access, and for access to ICT assets supporting critical or important "
        "functions or publicly accessible.",
        "Politique de contrôle d'accès, méthodes d'authentification\u00a0: proportionnées à la "
        "classification et au profil de risque des actifs de TIC\u202f; une authentification forte pour "
        "l'accès à distance au réseau, pour l'accès à privilèges et pour l'accès aux actifs de TIC "
        "soutenant des fonctions critiques ou importantes ou accessibles au public.",
    ),
    Citation(
        "cnil",
        CNIL_MFA,
        "Délibération n° 2025-019 of 20 March 2025 (MFA recommendation)",
        "Délibération n° 2025-019 du 20 mars 2025 (recommandation relative à l'authentification multifacteur)",
        "MFA uses factors from at least two of knowledge, possession and inherence; a password "
        "followed by a code received by e-mail is two-step verification, not MFA.",
        "La MFA combine des facteurs d'au moins deux catégories parmi connaissance, possession et "
        "inhérence\u202f; un mot de passe suivi d'un code reçu par courriel est une vérification en "
        "deux étapes, pas une MFA.",
    ),
    Citation(
        "cnil",
        CNIL_DB,
        "Instructions to secure large databases (2025)",
        "Consignes pour renforcer la sécurité des grandes bases de données (2025)",
        "For databases of several million people, remote access by employees and contractors "
        "requires MFA; most large 2024 breaches came through an account protected by a password "
        "alone.",
        "Pour les bases de données de plusieurs millions de personnes, les accès à distance des "
        "salariés et prestataires exigent une MFA\u202f; la plupart des grandes violations de 2024 sont "
        "passées par un compte protégé par un seul mot de passe.",
    ),
    Citation(
        "pgssi-s",
        PGSSI_S,
        "Electronic identification referential (approved by the arrêté of 28 March 2022)",
        "Référentiel d'identification électronique (approuvé par l'arrêté du 28 mars 2022)",
        "Digital health services: electronic identification of professionals and users, second "
        "factors required in successive stages.",
        "Services numériques en santé\u00a0: identification électronique des professionnels et des "
        "usagers, seconds facteurs exigés par paliers successifs.",
    ),
    Citation(
        "anssi",
        ANSSI_MFA,
        "ANSSI-PG-078, multi-factor authentication and passwords, v2.0 (October 2021)",
        "ANSSI-PG-078, Recommandations relatives à l'authentification multifacteur et aux mots de "
        "passe, v2.0 (octobre 2021)",
        "Guidance on choosing authentication factors and on their strength.",
        "Recommandations sur le choix des facteurs d'authentification et leur robustesse.",
    ),
    Citation(
        "iso27001",
        ISO_A517,
        "Annex A 5.17",
        "annexe A, 5.17",
        "Authentication information.",
        "Informations d'authentification.",
    ),
    Citation(
        "iso27001",
        ISO_A518,
        "Annex A 5.18",
        "annexe A, 5.18",
        "Access rights: reviewed, and removed when no longer needed (dormant accounts).",
        "Droits d'accès\u00a0: revus, et retirés quand ils ne sont plus nécessaires (comptes inactifs).",
    ),
    Citation(
        "iso27001",
        ISO_A85,
        "Annex A 8.5",
        "annexe A, 8.5",
        "Secure authentication, based on access restrictions and the access-control policy.",
        "Authentification sécurisée, fondée sur les restrictions d'accès et la politique de contrôle d'accès.",
    ),
    Citation(
        "nist",
        NIST_AAL2,
        "AAL2",
        "AAL2",
        "Two distinct authentication factors; a phishing-resistant option must be offered.",
        "Deux facteurs d'authentification distincts\u202f; une option résistante à l'hameçonnage doit être proposée.",
    ),
    Citation(
        "nist",
        NIST_AAL3,
        "AAL3",
        "AAL3",
        "A phishing-resistant, hardware-bound authenticator with non-exportable keys.",
        "Un authentificateur résistant à l'hameçonnage, lié à un matériel, aux clés non exportables.",
    ),
    Citation(
        "nist",
        NIST_RESTRICTED,
        "Restricted authenticators",
        "Authentificateurs restreints",
        "Out-of-band codes over the telephone network (SMS, voice) are restricted.",
        "Les codes hors bande transmis par le réseau téléphonique (SMS, voix) sont restreints.",
    ),
    Citation(
        "cis",
        CIS_53,
        "5.3",
        "5.3",
        "Disable dormant accounts.",
        "Désactiver les comptes inactifs.",
    ),
    Citation(
        "cis",
        CIS_63,
        "6.3",
        "6.3",
        "Require MFA for externally-exposed applications.",
        "Exiger la MFA pour les applications exposées à l'extérieur.",
    ),
    Citation(
        "cis",
        CIS_64,
        "6.4",
        "6.4",
        "Require MFA for remote network access.",
        "Exiger la MFA pour l'accès distant au réseau.",
    ),
    Citation(
        "cis",
        CIS_65,
        "6.5",
        "6.5",
        "Require MFA for administrative access.",
        "Exiger la MFA pour les accès d'administration.",
    ),
    Citation(
        "pci",
        PCI_841,
        "8.4.1",
        "8.4.1",
        "MFA for all non-console access into the CDE for personnel with administrative access.",
        "MFA pour tout accès non console à l'environnement des données de titulaires de carte "
        "(CDE) par le personnel ayant un accès d'administration.",
    ),
    Citation(
        "pci",
        PCI_84,
        "8.4.2",
        "8.4.2",
        "MFA for all non-console access into the CDE.",
        "MFA pour tout accès non console au CDE.",
    ),
    Citation(
        "pci",
        PCI_851,
        "8.5.1",
        "8.5.1",
        "MFA systems resist replay, cannot be bypassed (except documented, time-limited exceptions) "
        "and use two different factor types.",
        "Les systèmes MFA résistent au rejeu, ne peuvent être contournés (sauf exception documentée "
        "et limitée dans le temps) et utilisent deux types de facteurs différents.",
    ),
)

_COVERAGE = (GDPR_32, NIS2_21, NIS2_IR, DORA_9, DORA_RTS, ISO_A85, NIST_AAL2, CIS_63, PCI_84, CNIL_MFA, CNIL_DB)
# The references each rule's finding should cite, for the report; the catalogue's own
# tuples are the subset it was written with.
RULE_CITATIONS: dict[str, tuple[FrameworkRef, ...]] = {
    "MFA-001": (*_COVERAGE, PGSSI_S),
    "MFA-002": (*_COVERAGE, PCI_851),
    "MFA-003": _COVERAGE,
    "MFA-004": (*_COVERAGE, CIS_64),
    "MFA-005": (
        GDPR_32,
        NIS2_IR,
        DORA_RTS,
        ISO_A85,
        NIST_AAL2,
        NIST_AAL3,
        NIST_RESTRICTED,
        PCI_851,
        CNIL_MFA,
        ANSSI_MFA,
    ),
    "MFA-006": (GDPR_32, NIS2_21, NIS2_IR, DORA_RTS, ISO_A85, NIST_AAL3, CIS_65, PCI_841),
    "MFA-007": (GDPR_32, NIS2_21, ISO_A85, CIS_63, PCI_851),
    "MFA-008": (GDPR_32, ISO_A518, CIS_53),
    "MFA-009": (GDPR_32, ISO_A518, PCI_851),
    "MFA-010": (GDPR_32, ISO_A85),
    "MFA-011": (GDPR_32, NIS2_21, ISO_A85, NIST_AAL2, CIS_63, PCI_84),
    "MFA-012": (NIS2_21, ISO_A85, CIS_63, CIS_64),
    # Effective strength and emergency access (issue #14).
    "MFA-013": (GDPR_32, ISO_A85, NIST_AAL2, CNIL_MFA),
    "MFA-014": (ISO_A85, NIST_AAL3, CIS_65),
    "MFA-015": (ISO_A85, ISO_A518),
    "MFA-016": (GDPR_32, ISO_A518),
    "MFA-017": (ISO_A85, ISO_A518, CIS_65),
}

# Short forms for lists (a rule's references): (English, French).
SHORT: dict[FrameworkRef, tuple[str, str]] = {
    GDPR_32: ("GDPR Art. 32(1)(b)", "RGPD, art. 32, par. 1, point b)"),
    GDPR_9: ("GDPR Art. 9(1)", "RGPD, art. 9, par. 1"),
    NIS2_21: ("NIS2 Art. 21(2)(j)", "NIS 2, art. 21, par. 2, point j)"),
    NIS2_IR: (
        "Impl. Reg. (EU) 2024/2690 Annex 11.3.2(a), 11.6.2(a), 11.7",
        "Règl. d'exéc. (UE) 2024/2690, annexe 11.3.2 a), 11.6.2 a), 11.7",
    ),
    DORA_9: ("DORA Art. 9(4)(d)", "DORA, art. 9, par. 4, point d)"),
    DORA_RTS: ("Del. Reg. (EU) 2024/1774 Art. 21(f)", "Règl. délégué (UE) 2024/1774, art. 21, point f)"),
    CNIL_MFA: ("CNIL délib. n° 2025-019", "CNIL délib. n° 2025-019"),
    CNIL_DB: ("CNIL large databases (2025)", "CNIL grandes bases de données (2025)"),
    PGSSI_S: ("PGSSI-S e-identification referential", "PGSSI-S référentiel d'identification électronique"),
    ANSSI_MFA: ("ANSSI-PG-078", "ANSSI-PG-078"),
    ISO_A517: ("ISO/IEC 27001 A.5.17", "ISO/IEC 27001 A.5.17"),
    ISO_A518: ("ISO/IEC 27001 A.5.18", "ISO/IEC 27001 A.5.18"),
    ISO_A85: ("ISO/IEC 27001 A.8.5", "ISO/IEC 27001 A.8.5"),
    NIST_AAL2: ("NIST SP 800-63B-4 AAL2", "NIST SP 800-63B-4 AAL2"),
    NIST_AAL3: ("NIST SP 800-63B-4 AAL3", "NIST SP 800-63B-4 AAL3"),
    NIST_RESTRICTED: ("NIST SP 800-63B-4 restricted authenticators", "NIST SP 800-63B-4 authentificateurs restreints"),
    CIS_53: ("CIS v8.1 5.3", "CIS v8.1 5.3"),
    CIS_63: ("CIS v8.1 6.3", "CIS v8.1 6.3"),
    CIS_64: ("CIS v8.1 6.4", "CIS v8.1 6.4"),
    CIS_65: ("CIS v8.1 6.5", "CIS v8.1 6.5"),
    PCI_841: ("PCI DSS v4.0.1 8.4.1", "PCI DSS v4.0.1 8.4.1"),
    PCI_84: ("PCI DSS v4.0.1 8.4.2", "PCI DSS v4.0.1 8.4.2"),
    PCI_851: ("PCI DSS v4.0.1 8.5.1", "PCI DSS v4.0.1 8.5.1"),
}


def short(ref: FrameworkRef, language: str) -> str:
    """A reference as a list shows it; one this module does not know, as it is."""
    pair = SHORT.get(ref)
    if pair is None:
        return f"{ref.framework} {ref.reference}"
    return pair[1] if language == "fr" else pair[0]


_BY_REF = {c.ref: c for c in CITATIONS}
_ORDER = {f.key: f.order for f in FRAMEWORKS}


def citation(ref: FrameworkRef) -> Citation | None:
    return _BY_REF.get(ref)


def framework(key: str) -> Framework:
    return next(f for f in FRAMEWORKS if f.key == key)


def _sort_key(c: Citation) -> tuple[int, int]:
    return (_ORDER[c.framework], CITATIONS.index(c))


def select(keys: Iterable[str] = ()) -> tuple[Citation, ...]:
    """The citations of the selected frameworks (``report.frameworks``; none: all), sorted
    by framework, then in the order above (article order within a framework)."""
    chosen = set(keys) or set(FRAMEWORK_KEYS)
    return tuple(sorted((c for c in CITATIONS if c.framework in chosen), key=_sort_key))


def for_rule(
    rule_id: str, given: Iterable[FrameworkRef], keys: Iterable[str] = ()
) -> tuple[Citation | FrameworkRef, ...]:
    """What a rule's group in the report cites: this module's references for the rule
    (or those the finding carries, for a rule it does not know), restricted to the
    selected frameworks and sorted. A reference this module does not know is kept as it is."""
    chosen = set(keys) or set(FRAMEWORK_KEYS)
    refs = dict.fromkeys((*RULE_CITATIONS.get(rule_id, ()), *given))
    known = [c for c in (citation(r) for r in refs) if c is not None and c.framework in chosen]
    unknown = [r for r in refs if citation(r) is None]
    return (*sorted(known, key=_sort_key), *unknown)
