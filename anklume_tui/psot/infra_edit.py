"""Add, change and remove domains and machines in the infra's own files, nothing written yet.

Each operation returns the new text of every file it touches (None: the file goes); comments, key
order, quoting and blank lines outside the changed node stay byte for byte (yaml_roundtrip). In the
directory form a domain lives in the domains/*.yml file that defines it last (SPEC §3.1, W5); a new
domain gets domains/<name>.yml.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from ..errors import Invalid
from .infra_fields import DOMAIN_FIELDS, MACHINE_FIELDS, FieldSpec
from .load import directory_files, resolve_infra_path
from .yaml_bounds import UnreadableInput, read_regular_file
from .yaml_roundtrip import YamlDocument, append, block, new_document_text, remove, rename, same_value, set_value

Changes = dict[Path, str | None]
Values = Mapping[str, object]  # field key -> YAML value (infra_fields.value_of); None: not declared


class EditRefused(Invalid, ValueError):
    """An edit that cannot be made as asked; the message says why, naming the file."""


@dataclass(frozen=True)
class InfraFiles:
    """The infra's files as read: what edits start from, and what the disk must still hold when saving.

    Each file is parsed once, on first use, with the layout its text shows; every edit then works on a
    copy, so a form checking each keystroke pays no parse (and never re-guesses a layout).
    """

    root: Path
    is_directory: bool
    texts: dict[Path, str]
    _parsed: dict[Path, YamlDocument] = field(default_factory=dict, compare=False, repr=False)

    @property
    def main(self) -> Path:
        return self.root / "base.yml" if self.is_directory else self.root

    def document(self, file: Path) -> YamlDocument:
        """The file as read, shared by every edit: read it, never change or write it (edit a `copy()`)."""
        if file not in self._parsed:
            try:
                document = YamlDocument(self.texts[file])
            except YAMLError as exc:
                raise EditRefused(f"{file} cannot be edited until its YAML is fixed: {exc}") from None
            if not isinstance(document.data, (CommentedMap, type(None))):
                raise EditRefused(f"{file} does not hold a mapping: fix it first")
            self._parsed[file] = document
        return self._parsed[file]


def read_infra_files(path: Path) -> InfraFiles:
    found = resolve_infra_path(path)
    if found is None:
        raise EditRefused(f"infra file not found: {path}")
    files = directory_files(found) if found.is_dir() else [found]
    texts = {}
    for file in files:
        try:
            texts[file] = read_regular_file(file).decode("utf-8")
        except (OSError, UnicodeDecodeError, UnreadableInput) as exc:
            raise EditRefused(f"cannot read {file}: {exc}") from None
    return InfraFiles(found, found.is_dir(), texts)


class _Session:
    """One edit: it looks through the files as read and changes a copy of the file it touches."""

    def __init__(self, files: InfraFiles) -> None:
        self.files = files
        self.docs: dict[Path, YamlDocument] = {}  # the copies being edited
        self.touched: Changes = {}

    def doc(self, file: Path) -> YamlDocument:
        """The file's document to edit."""
        if file not in self.docs:
            self.docs[file] = self.files.document(file).copy()
        return self.docs[file]

    def _view(self, file: Path) -> YamlDocument:
        return self.docs.get(file) or self.files.document(file)

    def _domains(self, file: Path, data: Any) -> CommentedMap | None:
        if data is None:
            return None
        in_domains_folder = self.files.is_directory and file != self.files.main
        domains = data if in_domains_folder else data.get("domains")
        return domains if isinstance(domains, CommentedMap) else None

    def domain_maps(self) -> list[tuple[Path, CommentedMap]]:
        """(file, mapping of domain name -> domain) in loading order, later ones win: to read, not to edit."""
        found = []
        for file in self.files.texts:
            domains = self._domains(file, self._view(file).data)
            if domains is not None:
                found.append((file, domains))
        return found

    def find_domain(self, name: str) -> tuple[Path, CommentedMap]:
        """(file, its domains mapping, to edit)."""
        for file, domains in reversed(self.domain_maps()):
            if name in domains:
                to_edit = self._domains(file, self.doc(file).data)
                assert to_edit is not None  # the document is a copy of the view just read
                return file, to_edit
        raise EditRefused(f"no domain named {name!r} in {self.files.root}")

    def find_machine(self, name: str) -> tuple[Path, CommentedMap, CommentedMap]:
        """(file, the domain holding it, its machines mapping), to edit."""
        for file, domains in self.domain_maps():
            for key, domain in domains.items():
                machines = domain.get("machines") if isinstance(domain, CommentedMap) else None
                if isinstance(machines, CommentedMap) and name in machines:
                    to_edit = self._domains(file, self.doc(file).data)
                    assert to_edit is not None  # the document is a copy of the view just read
                    domain = to_edit[key]
                    return file, domain, domain["machines"]
        raise EditRefused(f"no machine named {name!r} in {self.files.root}")

    def changed(self, file: Path) -> Changes:
        self.touched[file] = self.doc(file).dump()
        return self.touched


def edit_domain(files: InfraFiles, name: str, values: Values) -> Changes:
    session = _Session(files)
    file, domains = session.find_domain(name)
    _update(domains, name, values, DOMAIN_FIELDS)
    return session.changed(file)


def edit_machine(files: InfraFiles, name: str, values: Values) -> Changes:
    session = _Session(files)
    file, _, machines = session.find_machine(name)
    _update(machines, name, values, MACHINE_FIELDS)
    return session.changed(file)


def remove_domain(files: InfraFiles, name: str) -> Changes:
    session = _Session(files)
    file, domains = session.find_domain(name)
    if files.is_directory and file != files.main and list(domains) == [name]:
        return {file: None}  # the file held only this domain: it goes with it
    data = session.doc(file).data
    remove(domains, name, None if domains is data else (data, "domains"))
    return session.changed(file)


def remove_machine(files: InfraFiles, name: str) -> Changes:
    session = _Session(files)
    file, domain, machines = session.find_machine(name)
    remove(machines, name, (domain, "machines"))
    return session.changed(file)


def add_machine(files: InfraFiles, domain: str, values: Values) -> Changes:
    session = _Session(files)
    file, domains = session.find_domain(domain)
    node = domains[domain]
    if node is None:
        node = domains[domain] = CommentedMap()
    if not isinstance(node, CommentedMap):
        raise EditRefused(f"domain {domain!r} in {file} is not a mapping: fix it first")
    machines = node.get("machines")
    if not isinstance(machines, CommentedMap):
        set_value(node, "machines", CommentedMap())
        machines = node["machines"]
    name = _new_name(values, "machine")
    if name in machines:
        raise EditRefused(f"domain {domain!r} already has a machine named {name!r}")
    append(machines, name, _new_entry(values, MACHINE_FIELDS))
    return session.changed(file)


def add_domain(files: InfraFiles, values: Values) -> Changes:
    session = _Session(files)
    name = _new_name(values, "domain")
    for file, domains in session.domain_maps():
        if name in domains:
            raise EditRefused(f"a domain named {name!r} already exists in {file}")
    entry = _new_entry(values, DOMAIN_FIELDS)
    if files.is_directory:
        file = files.root / "domains" / f"{name}.yml"
        if file not in files.texts:
            return {file: new_document_text(CommentedMap([(name, entry)]))}
        target = session.doc(file).data  # a file of that name already holds other domains
    else:
        file = files.root
        data = session.doc(file).data
        if data is None:
            raise EditRefused(f"{file} is empty: write project_name, global and domains first")
        if not isinstance(data.get("domains"), CommentedMap):
            set_value(data, "domains", CommentedMap())
        target = data["domains"]
    append(target, name, entry)
    return session.changed(file)


def _new_name(values: Values, what: str) -> str:
    name = values.get("name")
    if not isinstance(name, str) or not name:
        raise EditRefused(f"the new {what} needs a name")
    return name


def _new_entry(values: Values, specs: tuple[FieldSpec, ...]) -> CommentedMap:
    """A new domain or machine: the declared fields in form order, defaults left out (a type is always said)."""
    entry = CommentedMap()
    for spec in specs[1:]:
        value = values.get(spec.key)
        if value is None or (same_value(spec.default, value) and spec.key != "type"):
            continue
        entry[spec.key] = block(value)
    return entry


def _update(parent: CommentedMap, name: str, values: Values, specs: tuple[FieldSpec, ...]) -> None:
    """Change the fields that differ from the file; a field equal to what the file means is left alone."""
    node = parent[name]
    if node is None:
        node = parent[name] = CommentedMap()
    if not isinstance(node, CommentedMap):
        raise EditRefused(f"{name!r} is not a mapping in the file: fix it by hand first")
    for spec in specs[1:]:
        if spec.key not in values:
            continue
        value = values[spec.key]
        if spec.key in node:
            if value is None:
                remove(node, spec.key)
            elif not same_value(node[spec.key], value):
                set_value(node, spec.key, value)
        elif value is not None and not same_value(spec.default, value):
            append(node, spec.key, value)
    new_name = values.get("name")
    if isinstance(new_name, str) and new_name and new_name != name:
        if new_name in parent:
            raise EditRefused(f"{new_name!r} already exists next to {name!r}")
        rename(parent, name, new_name)
