"""Fixtures shared by the provisioning tests (units, image build, Ansible)."""

from tests.provisioning.debootstrap import debian_root, debian_tree

__all__ = ["debian_root", "debian_tree"]
