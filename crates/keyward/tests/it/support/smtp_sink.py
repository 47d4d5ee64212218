"""A real SMTP server for keyward's tests, on loopback, built on aiosmtpd.

Usage: smtp_sink.py DIR [PORT]

Listens on 127.0.0.1:PORT (0, the default, picks a free port) and prints
"listening on PORT" once it accepts connections. Each message it receives is stored as
DIR/NNNN.json, numbered in arrival order and written under a temporary name first, so a
reader never sees half a record: the envelope (MAIL FROM, RCPT TO), the AUTH login and
password if the client logged in (any login is accepted; the test checks what was sent),
the raw message, and the message as Python's own email package reads it, which is how
the tests know lettre's output is a well-formed message and not only what lettre expects.

It exits when its standard input closes, so a test process that dies without cleaning up
cannot leave it running.
"""

import asyncio
import json
import os
import sys
import warnings
from email import message_from_bytes, policy

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

# aiosmtpd itself still sets the deprecated Session.login_data after every AUTH.
warnings.filterwarnings("ignore", message="Session.login_data is deprecated")


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        raw = envelope.original_content or b""
        message = message_from_bytes(raw, policy=policy.default)
        body = message.get_body(preferencelist=("plain",))
        login = session.auth_data if session.authenticated else None
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "login": login.login.decode() if isinstance(login, LoginPassword) else None,
            "password": login.password.decode() if isinstance(login, LoginPassword) else None,
            "raw": raw.decode("utf-8", errors="replace"),
            "headers": {name.lower(): str(value) for name, value in message.items()},
            "content_type": message.get_content_type(),
            "charset": message.get_content_charset(),
            "body": body.get_content() if body is not None else None,
            "defects": [repr(d) for d in message.defects],
        }
        path = os.path.join(self.directory, f"{self.count:04d}.json")
        with open(path + ".part", "w", encoding="utf-8") as out:
            json.dump(record, out)
        os.replace(path + ".part", path)
        return "250 OK: stored"


def accept_any_login(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=True, auth_data=auth_data)


async def main(directory, port):
    sink = Sink(directory)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(
            sink,
            hostname="smtp-sink.test",
            authenticator=accept_any_login,
            # The tests log in over plain text on loopback; a real relay would refuse it.
            auth_require_tls=False,
        ),
        "127.0.0.1",
        port,
    )
    print(f"listening on {server.sockets[0].getsockname()[1]}", flush=True)
    await loop.run_in_executor(None, sys.stdin.buffer.read)
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    asyncio.run(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) == 3 else 0))
