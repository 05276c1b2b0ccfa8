"""Conditional Access app groups: which of the tenant's service principals the
``Office365`` and ``MicrosoftAdminPortals`` keywords, and the Windows Azure Service
Management API app (which stands for a group of Azure services), take in.

Microsoft documents the group's contents as a list of service names ("Apps included in
Conditional Access Office 365 app suite", learn.microsoft.com/entra/identity/
conditional-access/reference-office-365-application-contents), not app ids. So an app is
a member when it is Microsoft's own (owned by Microsoft's first-party tenant) and its
display name is on that list, or when its app id is one of the well-known ids below.
A Microsoft app whose name is not on the list, or an app whose owner was not read but
whose name is, cannot be decided: it is reported and never counted as covered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from auditor.model import PortalId
from connectors.entra.parse import AppInfo

# The tenant that owns Microsoft's first-party applications (appOwnerOrganizationId).
MICROSOFT_OWNER_TENANTS = frozenset({"f8cdef31-a31e-4b4a-93e4-5f571e91255a"})

# Well-known app ids of Office 365 services (all also on the documented list by name).
OFFICE365_APP_IDS = frozenset(
    {
        "00000002-0000-0ff1-ce00-000000000000",  # Office 365 Exchange Online
        "00000003-0000-0ff1-ce00-000000000000",  # Office 365 SharePoint Online
        "00000004-0000-0ff1-ce00-000000000000",  # Skype for Business Online
        "00000006-0000-0ff1-ce00-000000000000",  # Microsoft Office 365 Portal
        "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe",  # Microsoft Teams Services
        "1fec8e78-bce4-4aaf-ab1b-5451cc387264",  # Microsoft Teams
        "4345a7b9-9a63-4910-a426-35363201d503",  # O365 Suite UX
    }
)

# The service names Microsoft lists in the Office 365 app (reference page dated 2024-12-06).
OFFICE365_APP_NAMES = frozenset(
    name.casefold()
    for name in (
        "App Studio for Microsoft Teams", "Augmentation Loop", "Call Recorder", "Connectors",
        "DataSecurityInvestigation", "Device Management Service", "EDU Assignments", "EnrichmentSvc",
        "Enterprise Copilot Platform", "Groups Service", "IC3 Gateway", "IC3 Gateway Non Cae", "Insights Services",
        "INT Augmentation Loop 1P", "Legacy Smart Compose", "Loop", "Loop Web Service", "M365 Admin Services",
        "M365 Auditing Public Protected Web API app", "M365ChatClient", "make.gov.powerapps.us",
        "make.powerapps.com", "Media Analysis and Transformation Service", "Message Recall",
        "Messaging Async Media", "MessagingAsyncMediaProd", "Microsoft 365 Reporting Service",
        "Microsoft Discovery Service", "Microsoft Exchange Online Protection", "Microsoft Flow Portal",
        "Microsoft Flow Portal GCC", "Microsoft Forms", "Microsoft Forms Web",
        "Microsoft Information Protection API", "Microsoft Office", "Microsoft Office 365 Portal",
        "Microsoft People Cards Service", "Microsoft Planner", "Microsoft Planner Client",
        "Microsoft SharePoint Online - SharePoint Home", "Microsoft Stream Portal", "Microsoft Stream Service",
        "Microsoft Teams", "Microsoft Teams - T4L Web Client", "Microsoft Teams - Teams And Channels Service",
        "Microsoft Teams Analytics", "Microsoft Teams Chat Aggregator", "Microsoft Teams Graph Service",
        "Microsoft Teams Mailhook", "Microsoft Teams Retail Service", "Microsoft Teams Services",
        "Microsoft Teams Targeting Application", "Microsoft Teams UIS", "Microsoft Teams Web Client",
        "Microsoft To-Do web app", "Microsoft Todo web app", "Microsoft Virtual Events Portal",
        "Microsoft Virtual Events Services", "Microsoft Visio Data Visualizer", "Microsoft Whiteboard Services",
        "MSAI Substrate Meeting Intelligence", "Natural Language Editor", "O365 Diagnostic Service",
        "O365 Suite UX", "O365 Suite UX PathFinder", "OCPS Checkin Service", "Office 365",
        "Office 365 Exchange Microservices", "Office 365 Exchange Online", "Office 365 Search Service",
        "Office 365 SharePoint Online", "Office Delve", "Office Hive", "Office Hive Fairfax",
        "Office MRO Device Manager Service", "Office Online Add-in SSO", "Office Online Augmentation Loop SSO",
        "Office Online Core SSO", "Office Online Loki SSO", "Office Online Maker SSO", "Office Online Print SSO",
        "Office Online Search SSO", "Office Online Service", "Office Online Speech SSO", "Office Scripts Service",
        "Office Scripts Service - INT", "Office Scripts Service - Local", "Office Scripts Service - Test",
        "Office Shredding Service", "Office.com", "Office365 Shell DoD WCSS-Client", "Office365 Shell WCSS-Client",
        "OfficeClientService", "OfficeHome", "OfficePowerPointSGS", "OfficeServicesManager", "One Outlook Web",
        "OneDrive", "OneDrive SyncEngine", "OneNote", "Outlook Browser Extension", "Outlook Service for Exchange",
        "PowerApps Service", "ProjectWorkManagement", "ProjectWorkManagement_AdminTools",
        "ProjectWorkManagement_USGov", "Protection Center", "Reply-At-Mention", "SharePoint eSignature",
        "SharePoint eSignature PPE", "SharePoint Online Web Client Extensibility",
        "SharePoint Online Web Client Extensibility Isolated", "Skype and Teams Tenant Admin API",
        "Skype for Business", "Skype for Business Online", "Skype Presence Service", "Sway",
        "Targeted Messaging Service", "Teams CMD Services Artifacts", "Teams Walkie Talkie Service",
        "Teams Walkie Talkie Service - GCC", "Viva Engage",
    )
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class GroupMembership:
    members: tuple[PortalId, ...]
    undecided: tuple[PortalId, ...]  # never counted as covered; reported


@dataclass(frozen=True, slots=True)
class AppGroup:
    """A group as Microsoft documents it: well-known app ids, service names, and whether
    Microsoft adds members over time (``open``: then a Microsoft app not on the list
    cannot be decided)."""

    app_ids: frozenset[str]
    names: frozenset[str]  # case-folded
    open: bool


OFFICE365 = AppGroup(OFFICE365_APP_IDS, OFFICE365_APP_NAMES, open=True)

AZURE_PORTAL_APP_ID = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"
SERVICE_MANAGEMENT_APP_ID = "797f4846-ba00-4fd7-ba43-dac1f8f63013"  # Windows Azure Service Management API

# "Microsoft Admin Portals" (concept-conditional-access-cloud-apps): "we're continually
# adding more administrative portals to the list", hence open.
ADMIN_PORTALS = AppGroup(
    frozenset({AZURE_PORTAL_APP_ID}),
    frozenset(
        n.casefold()
        for n in (
            "Azure portal",
            "Exchange admin center",
            "Microsoft 365 admin center",
            "Microsoft 365 Defender portal",
            "Microsoft Entra admin center",
            "Microsoft Intune admin center",
            "Microsoft Purview portal",
            "Microsoft Teams admin center",
        )
    ),
    open=True,
)

# Targeting the Windows Azure Service Management API app "is enforced for tokens issued to"
# Azure Resource Manager, the Azure portal (and the Entra admin centre), Azure Data Lake,
# Application Insights API and Log Analytics API (same page): a closed list.
SERVICE_MANAGEMENT = AppGroup(
    frozenset({SERVICE_MANAGEMENT_APP_ID, AZURE_PORTAL_APP_ID}),
    frozenset(
        n.casefold()
        for n in (
            "Windows Azure Service Management API",
            "Azure Resource Manager",
            "Azure portal",
            "Azure Data Lake",
            "Application Insights API",
            "Log Analytics API",
        )
    ),
    open=False,
)


def membership(group: AppGroup, apps: Mapping[str, AppInfo], portal_by_app: Mapping[str, PortalId]) -> GroupMembership:
    """The tenant's portals in ``group``. Without app details (``apps`` empty: an older
    caller), only the well-known app ids decide."""
    members: dict[PortalId, None] = {}
    undecided: dict[PortalId, None] = {}
    for app_id, portal in portal_by_app.items():
        info = apps.get(app_id)
        if app_id in group.app_ids:
            members[portal] = None
        elif info is None:
            continue
        elif info.owner in MICROSOFT_OWNER_TENANTS:
            if info.name.casefold() in group.names:
                members[portal] = None
            elif group.open:
                undecided[portal] = None  # Microsoft may have added it
        elif info.owner is None and info.name.casefold() in group.names:
            undecided[portal] = None  # named like a member, owner unknown
    return GroupMembership(tuple(members), tuple(undecided))


def office365(apps: Mapping[str, AppInfo], portal_by_app: Mapping[str, PortalId]) -> GroupMembership:
    """The tenant's portals in the ``Office365`` group."""
    return membership(OFFICE365, apps, portal_by_app)
