"""Permissions: a policy decides whether an actor may do something to a record.

The service asks the policy before it changes anything; a refusal raises
:class:`~oppcore.PermissionDeniedError` and leaves the store and the audit trail untouched.
A policy is a pure decision over the actor, the action and the record as stored (or, for
``create``, the record as it would be stored).

Policies live beside the service, not in :mod:`oppcore.storage`: a store keeps records and
knows nothing about who may write them; deciding that is the service's job.
"""

import enum
from collections.abc import Mapping
from typing import Protocol, runtime_checkable

import attrs

from oppcore._errors import ValidationError
from oppcore._frozenmap import FrozenMap
from oppcore._models import Lead, Opportunity

__all__ = ["Permission", "AllowAll", "OwnerTeamPolicy", "Policy"]


class Permission(str, enum.Enum):
    """What an actor wants to do to a record."""

    READ = "read"
    CREATE = "create"
    """Store a new record (the policy sees the record to be created)."""
    EDIT = "edit"
    """Change fields, log activities, rescore, merge into it."""
    MOVE = "move"
    """Change the stage (including marking won or lost)."""
    DELETE = "delete"
    EXPORT = "export"


@runtime_checkable
class Policy(Protocol):
    """Decides whether ``actor`` may perform ``action`` on ``record``."""

    def allows(self, actor: str, action: Permission, record: Lead | Opportunity) -> bool:
        """Return ``True`` if the action is permitted."""
        ...


@attrs.frozen
class AllowAll:
    """The default policy: everything is permitted."""

    def allows(self, actor: str, action: Permission, record: Lead | Opportunity) -> bool:
        """Return ``True``."""
        return True


def _frozen_teams(value: Mapping[str, str]) -> Mapping[str, str]:
    return FrozenMap(value)


@attrs.frozen(kw_only=True)
class OwnerTeamPolicy:
    """An example policy: owners edit their records, team mates read them, managers do all.

    * ``read`` and ``export``: the owner, members of the owner's team, managers.
    * ``create``, ``edit`` and ``move``: the owner and managers (a rep creates records
      of their own or without an owner, a manager records for anyone).
    * ``delete``: managers only.
    * A record without an owner can be read and edited by everyone (someone must be able
      to pick it up); deleting it still needs a manager.

    Args:
        teams: User id -> team name.
        managers: User ids allowed everything.
    """

    teams: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_teams)
    managers: frozenset[str] = attrs.field(default=frozenset(), converter=frozenset)

    def __attrs_post_init__(self) -> None:
        for user, team in self.teams.items():
            if not isinstance(user, str) or not isinstance(team, str):
                raise ValidationError("teams must map user ids to team names",
                                      model="OwnerTeamPolicy", field="teams", value=user)

    def allows(self, actor: str, action: Permission, record: Lead | Opportunity) -> bool:
        """Return whether ``actor`` may perform ``action`` on ``record`` (rules above)."""
        if actor in self.managers:
            return True
        action = Permission(action)
        if action is Permission.DELETE:
            return False
        owner = record.owner
        if owner is None or owner == actor:
            return True
        if action in (Permission.READ, Permission.EXPORT):
            team = self.teams.get(actor)
            return team is not None and team == self.teams.get(owner)
        return False
