#!/usr/bin/env python3
"""Looks for every secret the test suite was issued in everything it kept (issue 17).

    scripts/leak-scan.py DIR          # DIR as KEYWARD_TEST_LEAKS named it for the suite
    scripts/leak-scan.py --self-test  # shows that a planted secret is found

DIR/secrets/*.txt hold the credentials the tests were issued (API keys, service tokens,
session tokens), one per line; DIR/logs/ and DIR/data/ hold the servers' JSON debug logs,
the CLI's stderr, and each server's database files, outbox mail and /metrics text
(crates/keyward/tests/it/support/leaks.rs). A secret found anywhere there is a leak: the
script prints where (and only the first 8 characters of the secret) and exits 1.

Secrets are words of [A-Za-z0-9_-]. The scan splits every file into such words and looks
for each secret inside each word, so a secret is found alone, in a JSON string, in a URL,
in a header line, or run into other word characters.
"""

import os
import re
import sys
import tempfile

WORD = re.compile(rb"[A-Za-z0-9_\-]{16,}")
# Every secret is at least this long; words are probed at each offset by this many bytes.
PROBE = 16


def load_secrets(root):
    secrets = set()
    folder = os.path.join(root, "secrets")
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        with open(os.path.join(folder, name), "rb") as f:
            secrets.update(line.strip() for line in f if len(line.strip()) >= PROBE)
    return secrets


def kept_files(root):
    for sub in ("logs", "data"):
        for base, _, names in os.walk(os.path.join(root, sub)):
            for name in names:
                yield os.path.join(base, name)


def scan(root):
    secrets = load_secrets(root)
    by_probe = {}
    for s in secrets:
        by_probe.setdefault(s[:PROBE], []).append(s)
    found, files, size = [], 0, 0
    for path in kept_files(root):
        with open(path, "rb") as f:
            data = f.read()
        files += 1
        size += len(data)
        for m in WORD.finditer(data):
            word = m.group()
            for i in range(len(word) - PROBE + 1):
                for s in by_probe.get(word[i : i + PROBE], ()):
                    if word.startswith(s, i):
                        found.append((os.path.relpath(path, root), s[:8].decode()))
    return len(secrets), files, size, found


def self_test():
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "secrets"))
        os.makedirs(os.path.join(root, "logs"))
        secret = b"kw_live_Zx9QmT4rVb7Lp2Ws8Ne5Hc3Ka6Gd1Fy0"
        with open(os.path.join(root, "secrets", "1.txt"), "wb") as f:
            f.write(secret + b"\n")
        with open(os.path.join(root, "logs", "clean.log"), "wb") as f:
            f.write(b'{"msg":"verified","key_prefix":"kw_live_Zx9Q"}\n')
        _, _, _, found = scan(root)
        assert not found, found
        for planted in (b'{"key":"%s"}' % secret, b"Bearer %s\r\n" % secret, b"x%sy" % secret):
            with open(os.path.join(root, "logs", "leaky.log"), "wb") as f:
                f.write(planted)
            _, _, _, found = scan(root)
            assert found == [("logs/leaky.log", "kw_live_")], (planted, found)
    print("leak-scan self-test: a planted secret is found in JSON, in a header and inside a word")


def main():
    if sys.argv[1:] == ["--self-test"]:
        self_test()
        return 0
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    count, files, size, found = scan(sys.argv[1])
    print(
        f"leak scan: {count} secrets issued, looked for in {files} files "
        f"({size / 1e6:.1f} MB of logs, databases, mail and metrics): {len(found)} found"
    )
    if count == 0 or files == 0:
        print("leak scan: nothing was collected; is KEYWARD_TEST_LEAKS set for the suite?")
        return 1
    for path, prefix in found[:50]:
        print(f"  LEAK: a secret starting {prefix}… in {path}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
