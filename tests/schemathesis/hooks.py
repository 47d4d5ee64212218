"""schemathesis hooks for scripts/schemathesis.sh.

Three rules of keyward's API that no schema can state, applied to the generated requests so
that a valid request stays valid on the server too, and the positive-data check stays on for
every operation they touch; and one guard, so that the run keeps its own credential.
"""

import os
import re
import uuid

import schemathesis

# The key the run authenticates with, and its user, the workspace's owner (set by the
# script). schemathesis learns ids from responses (`GET /users/current` names the key, a
# listing names its creator), and would sooner or later revoke, rotate or delete that key,
# or remove its owner, which revokes it: every later request would be a 401, testing
# nothing. A change aimed at either gets a fresh id instead, a 404 like any unknown one.
# Changing the owner's role or scopes is left to the fuzzer: a key keeps the scopes its
# creator had when it was made, so only removal (DELETE) reaches the key.
PROTECTED = {
    ("id", None): os.environ.get("KW_API_KEY_ID"),
    ("user_id", "DELETE"): os.environ.get("KW_OWNER_ID"),
}

# The date part of an RFC 3339 timestamp, as `format: date-time` generates it.
TIMESTAMP = re.compile(r"^(\d{4})(-\d\d-\d\d[Tt].*)$", re.DOTALL)


def into_the_future(value):
    """`expires_at` must lie in the future (PRODUCT.md §7: a past one is 422), and a schema
    cannot say "after now". Move the year into 2100–2499 by whole 400-year Gregorian
    cycles, which keeps every date valid (29 February included); any other part of the
    value, valid or not, is left as generated."""
    match = TIMESTAMP.match(value) if isinstance(value, str) else None
    if match is None:
        return value
    year = int(match.group(1))
    if 2100 <= year <= 9998:
        return value
    return f"{2100 + (year - 2100) % 400:04d}{match.group(2)}"


def local_part_within_64(value):
    """An email's local part is at most 64 bytes (RFC 5321, and the mailer refuses longer
    ones), which the pattern cannot count together with its dots. A longer generated one is
    cut to 64 and back to the end of a word, so it stays the dot-atom the pattern made; the
    whitespace around it and the domain are left as generated."""
    if not isinstance(value, str) or "@" not in value:
        return value
    local, _, domain = value.rpartition("@")
    words = local.lstrip()
    if len(words.encode()) <= 64:
        return value
    lead = local[: len(local) - len(words)]
    return f"{lead}{words[:64].rstrip('.')}@{domain}"


@schemathesis.hook
def before_call(context, case, kwargs):
    params = case.path_parameters
    method = case.method.upper()
    if method != "GET" and isinstance(params, dict):
        for (name, only), protected in PROTECTED.items():
            if only in (None, method) and protected and params.get(name) == protected:
                params[name] = str(uuid.uuid4())
    body = case.body
    if not isinstance(body, dict):
        return
    if "expires_at" in body:
        body["expires_at"] = into_the_future(body["expires_at"])
    if "email" in body:
        body["email"] = local_part_within_64(body["email"])
    # An invitation token is a secret that only an emailed link holds; a generated one is an
    # unknown token, 422, so a generated sign-up goes without one (it is optional).
    if case.operation.label == "POST /api/v1/auth/signup" and isinstance(
        body.get("invitation_token"), str
    ):
        body["invitation_token"] = None
