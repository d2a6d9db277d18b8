# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write the keepalive audit report and print one line per host (playbooks/audit.yml).

Reads ``{host: keepalive_info result or null}`` as JSON on stdin, runs on the controller with
the Python that runs ansible-playbook (ruamel.yaml comes with the controller's venv), and
writes ``keepalive-audit.json`` and ``keepalive-audit.yml`` into ``--output-dir``.  The files
are for a pipeline to diff between runs: keys are sorted, lists keep the module's order, and
nothing in them depends on when the audit ran.  A file whose content did not change is not
rewritten.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
from typing import Any

REPORT_FORMAT = 1
# The module's result keys that describe the host (not Ansible's bookkeeping, not the arguments).
REPORTED = ('openssh', 'server', 'client', 'sysctl', 'tmout', 'putty', 'predictions', 'nat', 'findings')
HEADER = '# keepalive.ssh audit report (playbooks/audit.yml): no timestamps inside, diff it between runs.\n'
COLUMNS = ('HOST', 'OPENSSH', 'CLIENTALIVE', 'TCPKA', 'KEEPALIVE', 'DEAD CLIENT', 'IDLE LOGOUT', 'NAT')


def host_entry(result: dict[str, Any] | None) -> dict[str, Any]:
    if not result:
        return {'status': 'no result'}
    if result.get('unreachable'):
        return {'status': 'unreachable', 'msg': result.get('msg', '')}
    if result.get('failed') or result.get('skipped'):
        return {'status': 'skipped' if result.get('skipped') else 'failed', 'msg': result.get('msg', '')}
    return dict({'status': 'ok'}, **{key: result.get(key) for key in REPORTED})


def build(results: dict[str, Any]) -> dict[str, Any]:
    return {'report_format': REPORT_FORMAT, 'hosts': {host: host_entry(results[host]) for host in sorted(results)}}


def to_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False) + '\n'


# ruamel.yaml writes YAML 1.2, where these are plain strings; YAML 1.1 readers (PyYAML, older
# pipelines) would read them as booleans or null, so they are quoted (`TCPKeepAlive: 'yes'`).
_YAML11_AMBIGUOUS = {'y', 'n', 'yes', 'no', 'on', 'off', 'true', 'false', 'null', '~', ''}


def _sorted(value: Any) -> Any:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import SingleQuotedScalarString

    if isinstance(value, dict):
        return CommentedMap((key, _sorted(value[key])) for key in sorted(value))
    if isinstance(value, list):
        return CommentedSeq(_sorted(item) for item in value)
    if isinstance(value, str) and value.lower() in _YAML11_AMBIGUOUS:
        return SingleQuotedScalarString(value)
    return value


def to_yaml(report: dict[str, Any]) -> str:
    from ruamel.yaml import YAML

    yaml = YAML(typ='rt')
    yaml.default_flow_style = False
    yaml.width = 4096           # no line folding: a longer value must not reflow its neighbours
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    yaml.dump(_sorted(report), out)
    return HEADER + out.getvalue()


def write_if_changed(path: str, text: str) -> bool:
    try:
        with open(path, encoding='utf-8') as handle:
            if handle.read() == text:
                return False
    except FileNotFoundError:
        pass
    directory = os.path.dirname(path) or '.'
    fd, temp = tempfile.mkstemp(prefix='.keepalive-audit-', dir=directory)
    with os.fdopen(fd, 'w', encoding='utf-8') as handle:
        handle.write(text)
    os.chmod(temp, 0o644)
    os.replace(temp, path)
    return True


# -- the table ------------------------------------------------------------------------------------
def _seconds(prediction: dict[str, Any] | None) -> str:
    if not prediction:
        return '-'
    if prediction.get('seconds') is None:
        return 'never'
    return '%ss' % prediction['seconds']


def _setting(entry: dict[str, Any], keyword: str) -> str:
    server = entry.get('server') or {}
    value = ((server.get('settings') or {}).get(keyword) or {}).get('value')
    return '-' if value is None else str(value)


def _nat(nat: dict[str, Any] | None) -> str:
    if not nat:
        return '-'
    if nat['verdict'] == 'ended_by_idle_timeout':
        return 'ended first by %s' % nat['ended_first_by']['mechanism']
    if nat['kept_alive_by']:
        keepers = nat['kept_alive_by']
        first = next((k for k in keepers if k['side'] == 'server'), keepers[0])
        return '%s (%s, %s)' % (nat['verdict'], first['mechanism'], first['who'])
    return nat['verdict']


def row(host: str, entry: dict[str, Any]) -> tuple[str, ...]:
    if entry['status'] != 'ok':
        return (host, entry['status'], '', '', '', '', '', entry.get('msg', '')[:60])
    versions = entry.get('openssh') or {}
    sysctl = entry.get('sysctl') or {}
    names = ('tcp_keepalive_time', 'tcp_keepalive_intvl', 'tcp_keepalive_probes')
    values = [(sysctl.get(name) or {}).get('value') for name in names]
    kernel = '/'.join('-' if v is None else str(v) for v in values)
    predictions = entry.get('predictions') or {}
    idle = predictions.get('idle_logout') or {}
    return (
        host, '%s/%s' % (versions.get('server') or '-', versions.get('client') or '-'),
        '%s/%s' % (_setting(entry, 'ClientAliveInterval'), _setting(entry, 'ClientAliveCountMax')),
        _setting(entry, 'TCPKeepAlive'), kernel, _seconds(predictions.get('sshd_dead_client')),
        _seconds(idle) + (' (%s)' % idle['mechanism'] if idle.get('mechanism') else ''), _nat(entry.get('nat')),
    )


def table(report: dict[str, Any]) -> list[str]:
    rows = [COLUMNS] + [row(host, entry) for host, entry in report['hosts'].items()]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    return ['  '.join(cell.ljust(width) for cell, width in zip(r, widths)).rstrip() for r in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--output-dir', required=True, help='directory for keepalive-audit.{yml,json}')
    args = parser.parse_args(argv)
    report = build(json.load(sys.stdin))
    os.makedirs(args.output_dir, exist_ok=True)
    for line in table(report):
        print(line)
    for name, text in (('keepalive-audit.yml', to_yaml(report)), ('keepalive-audit.json', to_json(report))):
        path = os.path.join(args.output_dir, name)
        print('%s: %s' % (path, 'written' if write_if_changed(path, text) else 'unchanged'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
