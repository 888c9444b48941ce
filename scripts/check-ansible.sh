#!/usr/bin/env bash
# The Ansible content anklume-tui ships: ansible-lint (production profile) on playbooks/ and roles/, then
# ansible-playbook --syntax-check of site.yml and of every role (site.yml includes most roles dynamically,
# so a play naming each role statically is checked too). Offline: no Galaxy, no collections.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ansible-lint --offline --profile production --nocolor playbooks roles
roles_play="$(mktemp --suffix=.yml)"
trap 'rm -f "$roles_play"' EXIT
{
  echo "---"
  for role in roles/*/; do
    name="$(basename "$role")"
    printf -- '- name: Syntax of %s\n  hosts: all\n  gather_facts: false\n  roles: [%s]\n' "$name" "$name"
  done
} > "$roles_play"
ANSIBLE_ROLES_PATH=roles .venv/bin/ansible-playbook --syntax-check -i localhost, playbooks/site.yml "$roles_play"
