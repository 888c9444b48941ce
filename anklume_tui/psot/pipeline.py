"""The PSOT pipeline in SPEC §4 order: load, validate, enrich, re-validate, warn, model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

from .constants import nesting_prefix
from .context import HostContext
from .enrich import Enriched, enrich
from .findings import Finding, Severity, has_errors
from .load import LoadedInfra, load_infra
from .model import Infra, Renumber, build_model
from .stability import Move, stabilize
from .validate import collect_warnings, validate_host, validate_structure


@dataclass
class PsotResult:
    loaded: LoadedInfra
    findings: list[Finding]
    enriched: Enriched | None = None
    infra: Infra | None = None

    @property
    def valid(self) -> bool:
        return not has_errors(self.findings)

    @property
    def display(self) -> str:
        return self.loaded.display

    def of(self, severity: Severity) -> list[Finding]:
        return [f for f in self.findings if f.severity is severity]


if TYPE_CHECKING:

    class ValidResult(PsotResult):
        """A result with no error: the infra's model is always built then."""

        infra: Infra


def is_valid(result: PsotResult) -> TypeGuard[ValidResult]:
    """`result.valid`, telling the type checker that its infra model is there."""
    return result.valid


def _sorted(findings: list[Finding]) -> list[Finding]:
    def key(f: Finding) -> tuple[bool, str, int, int]:
        loc = f.location
        return (loc is None, loc.file if loc else "", loc.line if loc else 0, loc.column if loc else 0)

    return sorted(findings, key=key)


def prefix_for(data: dict[str, Any], ctx: HostContext) -> str:
    settings = data.get("global")
    if not isinstance(settings, dict):
        settings = {}
    return nesting_prefix(settings.get("nesting_prefix", True), ctx.absolute_level)


def run_psot(path: Path, ctx: HostContext) -> PsotResult:
    return check_loaded(load_infra(path), ctx)


def check_loaded(loaded: LoadedInfra, ctx: HostContext) -> PsotResult:
    findings = list(loaded.findings)
    data, source = loaded.data, loaded.source
    if data is None and has_errors(findings):
        return PsotResult(loaded, findings)
    data, moves = stabilize(data, ctx.allocation, prefix_for(data, ctx) if isinstance(data, dict) else "")
    findings += [Finding("W9", Severity.WARNING, m.message, source.key_at(_where(m))) for m in moves]
    structural = validate_structure(data, source)
    findings += structural
    if has_errors(findings) or not isinstance(data, dict):  # a shape that is not a mapping is already an error
        return PsotResult(loaded, _sorted(findings + _warnings_if_shaped(data, loaded, ctx)))
    findings += validate_host(data, source, ctx)
    if has_errors(findings):
        return PsotResult(loaded, _sorted(findings + collect_warnings(data, source, ctx)))
    enriched = enrich(data, source, ctx)
    findings += enriched.findings
    if not has_errors(findings):
        findings += _after_enrichment(enriched, loaded, structural)
    findings += collect_warnings(enriched.data, source, ctx)
    if has_errors(findings):
        return PsotResult(loaded, _sorted(findings), enriched)
    infra = build_model(enriched, prefix_for(data, ctx))
    if moves:
        renumbers = [Renumber(domain=m.domain, machine=m.machine, before=m.before, reason=m.reason) for m in moves]
        infra = infra.model_copy(update={"renumbers": renumbers})
    return PsotResult(loaded, _sorted(findings), enriched, infra)


def _where(move: Move) -> tuple[Any, ...]:
    return ("domains", move.domain) + (("machines", move.machine) if move.machine else ())


def _warnings_if_shaped(data: object, loaded: LoadedInfra, ctx: HostContext) -> list[Finding]:
    """Warnings (unknown keys, with their suggestions) help explain errors; give them when the root is a mapping."""
    return collect_warnings(data, loaded.source, ctx) if isinstance(data, dict) else []


def _after_enrichment(enriched: Enriched, loaded: LoadedInfra, before: list[Finding]) -> list[Finding]:
    seen = {(f.rule, f.message) for f in before}
    return [
        Finding("X4", Severity.ERROR, f"after enrichment: [{f.rule}] {f.message}", f.location)
        for f in validate_structure(enriched.data, loaded.source)
        if f.is_error and (f.rule, f.message) not in seen
    ]
