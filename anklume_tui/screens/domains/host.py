"""What the domains screen's action mixins use of the screen, declared once for the type checker.

At run time `DomainsHost` is `object` (each mixin's base); `DomainsScreen` supplies all of this.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from abc import abstractmethod
    from pathlib import Path

    from textual.screen import Screen
    from textual.worker import Worker

    from ...app import AnklumeApp
    from ...engine.machines import Target
    from ...psot.pipeline import PsotResult
    from ...reports import StatusReport

    class DomainsHost(Screen[None]):
        app: AnklumeApp
        infra: Path
        incus_url: str | None
        result: PsotResult | None
        status: StatusReport | None
        live: dict[str, dict[str, str]]

        @abstractmethod
        def check(self) -> Worker[None]: ...

        @abstractmethod
        def report(self, text: str) -> None: ...

        @abstractmethod
        def _refill(self) -> None: ...

        @abstractmethod
        def _allowed(self) -> bool: ...

        @abstractmethod
        def _targets(self) -> tuple[str, list[tuple[str, Target]]]: ...

        @abstractmethod
        def _selected_domain(self) -> str | None: ...

else:
    DomainsHost = object
