# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The client model and ClientEditor against the real ``ssh -G`` of this machine.

Generates client configurations from a fixed seed: global lines, ``Host`` blocks (wildcards,
negations, several patterns), ``Match`` blocks (all, host, originalhost, negated criteria, user,
localuser), ``Include`` of drop-ins at top level and inside blocks, duplicate definitions,
keyword case, ``=`` separators, quoted values, CRLF files and files without a final newline.
For each one, before and after ``ClientEditor`` sets a few keepalive keywords for a Host pattern:

* the model's first-value resolution equals what ``ssh -G`` reports for a set of host names;
* ``ssh -G`` reports the requested values for the editor's probe hosts (one per pattern);
* every other host name gets either its old value or the requested one, and a name the pattern
  does not match keeps its old value;
* only lines of the requested keywords, plus the new ``Host`` lines, differ from the original;
  every block the editor did not touch is byte-identical; a second run changes nothing.
"""

from __future__ import annotations

import difflib
import os
import random
import shutil
import subprocess

import pytest

from ansible_collections.keepalive.ssh.plugins.module_utils._client_editor import (
    PROBE_USER,
    ClientEditor,
    effective_value,
)
from ansible_collections.keepalive.ssh.plugins.module_utils._editor import parse_requests, same_value
from ansible_collections.keepalive.ssh.plugins.module_utils._keywords import CLIENT_KEYWORDS
from ansible_collections.keepalive.ssh.plugins.module_utils._model import (
    CLIENT,
    Config,
    block_span,
    host_line_matches,
    split_args,
)
from ansible_collections.keepalive.ssh.plugins.module_utils._runtime import CandidateTree
from ansible_collections.keepalive.ssh.plugins.module_utils._ssh_task import parse_ssh_dump, running_user

CASES = int(os.environ.get('KEEPALIVE_DIFF_CASES', '500'))
SEED = 20261122
KEYWORDS = ('ServerAliveInterval', 'ServerAliveCountMax', 'TCPKeepAlive', 'ConnectTimeout')
OTHER_LINES = ('ForwardAgent no', 'Compression yes', 'HashKnownHosts yes', 'SendEnv LANG LC_*',
               'CheckHostIP no', 'AddressFamily inet')
HOST_PATTERNS = ('*', 'foo', 'bar', 'db*', '*.example.com', 'web?', '* !foo', 'foo bar', 'db* !db2', 'x.example.com')
MATCH_CRITERIA = ('all', 'host foo', 'host db*,!db2', 'originalhost bar', 'user nobody', '!host foo',
                  'host foo user nobody', 'localuser ' + running_user(), 'Host *.example.com', 'user ' + PROBE_USER)
NAMES = ('foo', 'bar', 'db1', 'db2', 'web1', 'x.example.com', 'y.example.com', 'other')
REQUEST_HOSTS = ('*', '*', '*', 'foo', 'db*', '*.example.com', 'foo bar', '* !foo', 'web?', 'newhost')
SSH = shutil.which('ssh') or '/usr/bin/ssh'


def ssh_values(main: str, host: str) -> dict:
    proc = subprocess.run([SSH, '-G', '-F', main, '-l', PROBE_USER, host], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, check=False)
    assert proc.returncode == 0, proc.stderr
    dump = parse_ssh_dump(proc.stdout)
    return {k: dump[k.lower()][0] for k in KEYWORDS}


# -- the generator ----------------------------------------------------------------------------------
def spell(rng: random.Random, keyword: str) -> str:
    return rng.choice([keyword, keyword.lower(), keyword.upper(), keyword[0].lower() + keyword[1:]])


def value_for(rng: random.Random, keyword: str) -> str:
    if keyword == 'TCPKeepAlive':
        return rng.choice(['yes', 'no', 'YES', 'No', '"yes"'])
    number = rng.choice([1, 2, 3, 15, 30, 60, 120, 300])
    if keyword in ('ServerAliveInterval', 'ConnectTimeout') and number % 60 == 0 and rng.random() < 0.5:
        return '%dm' % (number // 60)
    return '"%d"' % number if rng.random() < 0.1 else str(number)


def directive(rng: random.Random, keyword: str, indent: str = '') -> str:
    sep = rng.choice([' ', ' ', '\t', '=', ' = ', '  '])
    trail = rng.choice(['', '', '', ' ', '\t'])
    return '%s%s%s%s%s' % (indent, spell(rng, keyword), sep, value_for(rng, keyword), trail)


def body(rng: random.Random, indent: str = '') -> list:
    lines = []
    for _line in range(rng.randint(0, 4)):
        roll = rng.random()
        if roll < 0.15:
            lines.append(rng.choice(['# comment', '', '   ', '#ServerAliveInterval 0']))
        elif roll < 0.35:
            lines.append(indent + rng.choice(OTHER_LINES))
        else:
            lines.append(directive(rng, rng.choice(KEYWORDS), indent))
    return lines


def block_head(rng: random.Random) -> str:
    if rng.random() < 0.65:
        word, value = rng.choice(['Host', 'host', 'HOST']), rng.choice(HOST_PATTERNS)
    else:
        word, value = rng.choice(['Match', 'match', 'MATCH']), rng.choice(MATCH_CRITERIA)
    return word + rng.choice([' ', ' ', '\t', '=']) + value


def block(rng: random.Random, include: str = '') -> list:
    indent = rng.choice(['', '  ', '\t', '    '])
    lines = [block_head(rng)] + body(rng, indent)
    if include and rng.random() < 0.5:
        lines.insert(rng.randint(1, len(lines)), indent + include)
    return lines


def write(path: str, lines: list, eol: str, final_newline: bool) -> None:
    text = eol.join(lines) + (eol if final_newline and lines else '')
    with open(path, 'w', newline='') as handle:
        handle.write(text)


def generate(rng: random.Random, root: str) -> str:
    """A random client configuration under ``root``; returns the main file's path.

    Relative Include paths resolve under ``root`` (the model's include_base); ``CandidateTree``
    rewrites them to absolute ones before ssh reads the files.
    """
    os.makedirs(os.path.join(root, 'conf.d'))
    drop_ins = rng.randint(0, 3)
    include = rng.choice(['Include conf.d/*.conf', 'Include %s/conf.d/*.conf' % root, 'include=conf.d/*.conf'])
    main = []
    if drop_ins and rng.random() < 0.6:
        main.append(include)
    main += body(rng)
    for _block in range(rng.choice([0, 1, 1, 2, 3, 4])):
        main += block(rng, include if drop_ins else '')
    if drop_ins and rng.random() < 0.2:
        main.append(include)
    for index in range(drop_ins):
        lines = body(rng)
        for _block in range(rng.choice([0, 0, 1, 2])):
            lines += block(rng)
        write(os.path.join(root, 'conf.d', '%02d-gen.conf' % (index * 20 + 10)), lines,
              rng.choice(['\n', '\n', '\r\n']), rng.random() < 0.9)
    path = os.path.join(root, 'config')
    write(path, main, rng.choice(['\n', '\n', '\r\n']), rng.random() < 0.85)
    return path


def requested(rng: random.Random) -> dict:
    choices = {
        'ServerAliveInterval': [15, '30', '2m', 45, 90],
        'ServerAliveCountMax': [1, 2, '4', 5],
        'TCPKeepAlive': [True, False, 'yes', 'no'],
        'ConnectTimeout': [5, '10', '1m'],
    }
    names = rng.sample(sorted(choices), rng.randint(1, 4))
    return {name: rng.choice(choices[name]) for name in names}


# -- the checks -------------------------------------------------------------------------------------
def load(main: str, root: str) -> Config:
    return Config(main, flavour=CLIENT, include_base=root)


def model_values(config: Config, host: str) -> dict:
    local = running_user()
    return {k: effective_value(config, k, host, PROBE_USER, local) for k in KEYWORDS}


def check_model_agrees(config: Config, tree: CandidateTree, names) -> dict:
    """Model and ssh agree for every name; returns ssh's values per name."""
    seen = {}
    for name in names:
        reported = ssh_values(tree.main, name)
        model = model_values(config, name)
        for keyword in KEYWORDS:
            spec = CLIENT_KEYWORDS[keyword.lower()]
            expected = spec.default if model[keyword] is None else model[keyword]
            assert same_value(spec, expected, reported[keyword]), (name, keyword, model, reported)
        seen[name] = reported
    return seen


def blocks_before(config: Config) -> list:
    """(file, head line, text of the block) for every block, before the edit."""
    words = config.flavour.block_words
    found = []
    for config_file in config.files.values():
        for line in config_file.lines:
            if line.key in words:
                start, end = block_span(config_file, line, words)
                found.append((config_file, line, ''.join(x.render() for x in config_file.lines[start - 1:end])))
    return found


def check_untouched_blocks(before: list, editor: ClientEditor) -> None:
    words = editor.config.flavour.block_words
    for config_file, head, text in before:
        if head in editor.touched:
            continue
        start, end = block_span(config_file, head, words)
        now = ''.join(x.render() for x in config_file.lines[start - 1:end])
        assert now.rstrip('\r\n') == text.rstrip('\r\n'), (config_file.path, head.text)


def check_only_requested_lines(config: Config, settings: dict, editor: ClientEditor) -> None:
    wanted = {k.lower() for k in settings}
    allowed_heads = {'host ' + editor.host, 'host *'}
    for config_file in config.changed_files():
        for line in difflib.ndiff(config_file.original.splitlines(), config_file.render().splitlines()):
            if not line.startswith(('- ', '+ ')):
                continue
            text = line[2:].strip()
            key = text.replace('=', ' ').split()[0].lower() if text else ''
            ok = not text or key in wanted or (line.startswith('+ ') and text.lower() in allowed_heads)
            assert ok, (config_file.path, line)


def check_values_after(before: dict, after: dict, settings: dict, editor: ClientEditor) -> None:
    requests = {k: CLIENT_KEYWORDS[k.lower()] for k in settings}
    parsed = parse_requests(CLIENT_KEYWORDS, settings, version=None, in_match=False)
    canon = {r.keyword.name: r.canonical for r in parsed}
    for name, values in after.items():
        for keyword in KEYWORDS:
            old, new = before[name][keyword], values[keyword]
            if keyword not in requests:
                assert old == new, (name, keyword, old, new)
                continue
            is_requested = same_value(requests[keyword], new, canon[keyword])
            if name in editor.probes:
                assert is_requested, (name, keyword, new, settings)
            elif not host_line_matches(name, editor.patterns):
                assert old == new, ('a host outside the pattern changed', name, keyword, old, new)
            else:
                assert old == new or is_requested, (name, keyword, old, new)


def rerun_is_noop(tree: CandidateTree, config: Config, settings: dict, host: str) -> None:
    again = Config(tree.path_for(config.main.path), flavour=CLIENT, include_base='/nonexistent')
    editor = ClientEditor(again, host=host, local_user=running_user())
    editor.apply(parse_requests(CLIENT_KEYWORDS, settings, version=None, in_match=False))
    assert not again.changed_files(), [(f.path, f.render()) for f in again.changed_files()]


@pytest.mark.parametrize('case', range(CASES))
def test_editor_agrees_with_ssh(case, tmp_path):
    rng = random.Random(SEED * 1000 + case)
    root = str(tmp_path)
    main = generate(rng, root)
    config = load(main, root)
    for config_file in config.files.values():
        assert config_file.render() == config_file.original, config_file.path
    settings, host = requested(rng), rng.choice(REQUEST_HOSTS)
    editor = ClientEditor(config, host=host, local_user=running_user())
    names = sorted(set(NAMES) | set(editor.probes))
    with CandidateTree(config) as tree:
        before = check_model_agrees(config, tree, names)
    blocks = blocks_before(config)
    editor.apply(parse_requests(CLIENT_KEYWORDS, settings, version=None, in_match=False))
    check_only_requested_lines(config, settings, editor)
    check_untouched_blocks(blocks, editor)
    with CandidateTree(config) as tree:
        after = check_model_agrees(config, tree, names)
        check_values_after(before, after, settings, editor)
        rerun_is_noop(tree, config, settings, host)


def test_control_naive_append_is_not_enough(tmp_path):
    """Control: appending ``ServerAliveInterval 45`` at the end of the file fails where the editor succeeds."""
    rng = random.Random(SEED)
    failures = 0
    for case in range(60):
        root = str(tmp_path / str(case))
        os.makedirs(root)
        main = generate(rng, root)
        with open(main, 'a') as handle:
            handle.write('\nServerAliveInterval 45\n')
        with CandidateTree(load(main, root)) as tree:
            if ssh_values(tree.main, 'foo')['ServerAliveInterval'] != '45':
                failures += 1
    assert failures > 0, 'the generator never produced a case where appending a line is wrong'


def test_control_checks_can_fail(tmp_path):
    """Control: the checks above catch an editor that rewrites the first line naming the keyword (a naive sed)."""
    root = str(tmp_path)
    os.makedirs(os.path.join(root, 'conf.d'))
    main = os.path.join(root, 'config')
    with open(main, 'w') as handle:
        handle.write('Host foo\n  ServerAliveInterval 5\nHost *\n  ServerAliveInterval 7\n')
    config = load(main, root)
    editor = ClientEditor(config, host='*', local_user=running_user())
    with CandidateTree(config) as tree:
        before = check_model_agrees(config, tree, ['foo', editor.probes[0]])
    wrong = list(config.definitions('ServerAliveInterval'))[0]
    wrong.line.set_value('60')   # Host foo's line, not the default's
    with CandidateTree(config) as tree:
        after = check_model_agrees(config, tree, ['foo', editor.probes[0]])
    with pytest.raises(AssertionError):
        check_values_after(before, after, {'ServerAliveInterval': 60}, editor)
    assert split_args(wrong.line.value) == ['60']
