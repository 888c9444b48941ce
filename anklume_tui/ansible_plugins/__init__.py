"""Ansible plugins shipped with anklume-tui; provisioning puts `connection/` on Ansible's plugin path."""
