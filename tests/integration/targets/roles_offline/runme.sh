#!/usr/bin/env bash
# Controller-only role checks: nothing here touches a managed host or changes this machine.
set -eux
export ANSIBLE_ROLES_PATH=/nonexistent
interp="python_interpreter=$(command -v python3)"
ansible-playbook -i localhost, -e "ansible_$interp" --check putty_registry_values.yml "$@"
ansible-playbook -i localhost, -e "ansible_$interp" --check argument_specs.yml "$@"
if ansible-doc -t module ansible.windows.win_regedit >/dev/null 2>&1; then
    ansible-playbook -i 'windows,' --syntax-check windows_syntax.yml
else
    echo "ansible.windows is not installed: Windows branch syntax check skipped"
fi
