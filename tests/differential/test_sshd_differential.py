# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The model and the editor against the real ``sshd -T`` of this machine.

Generates configurations with Include, drop-ins, Match blocks, duplicates, keyword case and
``=`` variants from a fixed seed.  For every one: parse/render is lossless, the model's
resolution equals what sshd reports, and after the editor sets ClientAliveInterval,
ClientAliveCountMax and TCPKeepAlive, sshd reports exactly the requested values.
"""

from __future__ import annotations

import difflib
import os
import random
import shutil
import subprocess

import pytest

from ansible_collections.keepalive.ssh.plugins.module_utils._editor import (
    DISABLED_MARKER,
    ServerEditor,
    parse_requests,
    same_value,
)
from ansible_collections.keepalive.ssh.plugins.module_utils._keywords import SERVER_KEYWORDS
from ansible_collections.keepalive.ssh.plugins.module_utils._model import SERVER, Config, resolve_server
from ansible_collections.keepalive.ssh.plugins.module_utils._runtime import CandidateTree, Runtime, RuntimeFailure

CASES = int(os.environ.get('KEEPALIVE_DIFF_CASES', '500'))
SEED = 20261121
KEYWORDS = ('ClientAliveInterval', 'ClientAliveCountMax', 'TCPKeepAlive')
SSHD = shutil.which('sshd') or '/usr/sbin/sshd'


def run(argv):
    proc = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(scope='module')
def runtime(tmp_path_factory):
    if not os.access(SSHD, os.X_OK):
        pytest.fail('sshd is not installed: run `make setup` (the differential test needs the real sshd)')
    os.makedirs('/run/sshd', exist_ok=True)
    return Runtime(run, sshd=SSHD)


@pytest.fixture(scope='module')
def host_key(tmp_path_factory):
    key = tmp_path_factory.mktemp('hostkey') / 'key'
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', str(key)], check=True)
    return str(key)


def spell(rng: random.Random, keyword: str) -> str:
    return rng.choice([keyword, keyword.lower(), keyword.upper(), keyword[0].lower() + keyword[1:]])


def value_for(rng: random.Random, keyword: str) -> str:
    if keyword == 'TCPKeepAlive':
        return rng.choice(['yes', 'no', 'YES', 'No', '"yes"'])
    number = rng.choice([0, 1, 2, 3, 15, 30, 60, 120, 300, 600])
    if keyword == 'ClientAliveInterval' and number and number % 60 == 0 and rng.random() < 0.5:
        return '%dm' % (number // 60)
    return '"%d"' % number if rng.random() < 0.1 else str(number)


def directive(rng: random.Random, keyword: str, indent: str = '') -> str:
    sep = rng.choice([' ', ' ', '\t', '=', ' = ', '  '])
    trail = rng.choice(['', '', '', ' ', '\t'])
    return '%s%s%s%s%s' % (indent, spell(rng, keyword), sep, value_for(rng, keyword), trail)


def body(rng: random.Random, *, allow_tcp: bool, indent: str = '') -> list:
    lines = []
    for _line in range(rng.randint(0, 4)):
        roll = rng.random()
        if roll < 0.15:
            lines.append(rng.choice(['# comment', '', '   ', '#ClientAliveInterval 0']))
        else:
            choices = KEYWORDS if allow_tcp else KEYWORDS[:2]
            lines.append(directive(rng, rng.choice(choices), indent))
    return lines


def match_block(rng: random.Random) -> list:
    criteria = rng.choice(['all', 'User backup', 'Address 10.0.0.0/8', 'Host *.example', 'User nobody,root'])
    indent = rng.choice(['', '  ', '\t', '    '])
    return [rng.choice(['Match', 'match', 'MATCH']) + ' ' + criteria] + body(
        rng, allow_tcp=criteria == 'all', indent=indent)


def write(path: str, lines: list, eol: str, final_newline: bool) -> None:
    text = eol.join(lines) + (eol if final_newline and lines else '')
    with open(path, 'w', newline='') as handle:
        handle.write(text)


def generate(rng: random.Random, root: str, host_key: str) -> str:
    """A random configuration under ``root``; returns the main file's path."""
    dropins = os.path.join(root, 'sshd_config.d')
    os.makedirs(dropins)
    include = 'Include %s/*.conf' % dropins
    main = ['HostKey ' + host_key]
    with_include = rng.random() < 0.8
    if with_include and rng.random() < 0.7:
        main.append(include)
    main += body(rng, allow_tcp=True)
    if with_include and include not in main:
        main.append(include)
    main += body(rng, allow_tcp=True)
    for _block in range(rng.choice([0, 0, 1, 2])):
        main += match_block(rng)
    for index in range(rng.randint(0, 3) if with_include else 0):
        lines = body(rng, allow_tcp=True)
        if rng.random() < 0.3:
            lines += match_block(rng)
        write(os.path.join(dropins, '%02d-gen.conf' % (index * 20 + 10)), lines,
              rng.choice(['\n', '\n', '\r\n']), rng.random() < 0.9)
    path = os.path.join(root, 'sshd_config')
    write(path, main, rng.choice(['\n', '\n', '\r\n']), rng.random() < 0.9)
    return path


def requested(rng: random.Random) -> dict:
    return {
        'ClientAliveInterval': rng.choice([15, '30', '2m', 300, '1h']),
        'ClientAliveCountMax': rng.choice([1, 2, '3', 5]),
        'TCPKeepAlive': rng.choice([True, False, 'yes', 'no']),
    }


def check_lossless(config: Config) -> None:
    for config_file in config.files.values():
        assert config_file.render() == config_file.original, config_file.path


def check_model_matches_sshd(config: Config, dump: dict) -> None:
    for keyword in KEYWORDS:
        model = resolve_server(config, keyword)
        spec = SERVER_KEYWORDS[keyword.lower()]
        assert same_value(spec, model.value, dump[keyword.lower()]), (keyword, model, dump[keyword.lower()])


def check_only_requested_lines(config: Config) -> None:
    wanted = {k.lower() for k in KEYWORDS}
    for config_file in config.changed_files():
        for line in difflib.ndiff(config_file.original.splitlines(), config_file.render().splitlines()):
            if line.startswith(('- ', '+ ')):
                text = line[2:].strip()
                key = text.replace('=', ' ').split()[0].lower() if text else ''
                assert key in wanted or text.startswith(DISABLED_MARKER.strip()) or not text, line


def rerun_is_noop(root_tree: CandidateTree, config: Config, settings: dict, placement: str) -> None:
    again = Config(root_tree.path_for(config.main.path), flavour=SERVER)
    editor = ServerEditor(again, placement=placement)
    editor.apply(parse_requests(SERVER_KEYWORDS, settings, version=None, in_match=False))
    assert not again.changed_files(), [f.path for f in again.changed_files()]


@pytest.mark.parametrize('case', range(CASES))
def test_editor_agrees_with_sshd(case, runtime, host_key, tmp_path):
    rng = random.Random(SEED * 1000 + case)
    main = generate(rng, str(tmp_path), host_key)
    try:
        runtime.sshd_test(main)
    except RuntimeFailure as exc:  # the generator never writes an invalid file
        pytest.fail('generated configuration refused by sshd: %s' % exc)
    config = Config(main, flavour=SERVER)
    check_lossless(config)
    check_model_matches_sshd(config, runtime.sshd_dump(main))

    settings = requested(rng)
    has_include = any(e.key == 'include' for e in config.entries)
    placement = rng.choice(['in_place', 'main_file', 'drop_in'] if has_include else ['in_place', 'main_file'])
    requests = parse_requests(SERVER_KEYWORDS, settings, version=(9, 2), in_match=False)
    ServerEditor(config, placement=placement).apply(requests)
    check_only_requested_lines(config)
    with CandidateTree(config) as tree:
        runtime.sshd_test(tree.main)
        dump = runtime.sshd_dump(tree.main)
        for request in requests:
            assert same_value(request.keyword, dump[request.keyword.name.lower()], request.canonical), (
                placement, request, dump[request.keyword.name.lower()])
        check_model_matches_sshd(config, dump)
        rerun_is_noop(tree, config, settings, placement)


def test_control_naive_append_is_not_enough(runtime, host_key, tmp_path):
    """Control: appending at the end (what lineinfile does) fails where the editor succeeds."""
    rng = random.Random(SEED)
    failures = 0
    for case in range(40):
        root = tmp_path / str(case)
        root.mkdir()
        main = generate(rng, str(root), host_key)
        with open(main, 'a') as handle:
            handle.write('\nClientAliveInterval 45\n')
        if runtime.sshd_dump(main)['clientaliveinterval'] != '45':
            failures += 1
    assert failures > 0, 'the generator never produced a case where appending a line is wrong'
