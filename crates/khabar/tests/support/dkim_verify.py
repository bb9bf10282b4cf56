#!/usr/bin/python3
"""Verifies the DKIM signatures of saved messages without DNS (Debian python3-dkim).

Usage:
    /usr/bin/python3 dkim_verify.py --public-key PEM_FILE --selector S --domain D FILE.eml...

PEM_FILE holds the signer's public key as `-----BEGIN PUBLIC KEY-----` (DER
SubjectPublicKeyInfo, e.g. from `openssl rsa -in key.pem -pubout`). The lookup of
`S._domainkey.D.` answers `v=DKIM1; k=rsa; p=<that base64>`; every other name has
no record. For each file the topmost DKIM-Signature is checked with dkim.verify()
and one line is printed:

    OK <file>        or        FAIL <file>

followed by one indented `h=<signed headers>` line per DKIM-Signature in the
file (`  (no DKIM-Signature)` when there is none). Reasons for failures go to
stderr. Exit status: 0 only if every file passed; 1 otherwise; 2 on bad usage.
"""

import argparse
import logging
import sys

import dkim
from dkim.util import parse_tag_value


def public_key_base64(pem_path):
    with open(pem_path, "r", encoding="ascii") as f:
        lines = [line.strip() for line in f if line.strip()]
    if not lines or lines[0] != "-----BEGIN PUBLIC KEY-----" or lines[-1] != "-----END PUBLIC KEY-----":
        first = lines[0] if lines else "(empty file)"
        raise SystemExit(
            "dkim_verify.py: %s: expected a '-----BEGIN PUBLIC KEY-----' PEM (SubjectPublicKeyInfo), got %r;\n"
            "  make one with: openssl rsa -in private.pem -pubout -out public.pem" % (pem_path, first)
        )
    return "".join(lines[1:-1])


def make_dnsfunc(selector, domain, p):
    wanted = ("%s._domainkey.%s." % (selector, domain.rstrip("."))).lower()
    record = ("v=DKIM1; k=rsa; p=%s" % p).encode("ascii")

    def dnsfunc(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode("ascii", "replace")
        name = name.lower()
        if not name.endswith("."):
            name += "."
        return record if name == wanted else None

    return dnsfunc


def signed_header_lists(message):
    """The h= tag of each DKIM-Signature, topmost first."""
    out = []
    try:
        headers, _body = dkim.rfc822_parse(message)
    except Exception as e:  # a message too broken to parse has no usable signature
        return ["(unparseable message: %s)" % e]
    for name, value in headers:
        if name.lower() != b"dkim-signature":
            continue
        try:
            tags = parse_tag_value(value)
            h = tags.get(b"h", b"(no h= tag)")
            out.append(b"".join(h.split()).decode("ascii", "replace"))
        except Exception as e:
            out.append("(unparseable DKIM-Signature: %s)" % e)
    return out


def main(argv):
    p = argparse.ArgumentParser(description="verify DKIM signatures of .eml files against a local public key")
    p.add_argument("--public-key", required=True, metavar="PEM_FILE")
    p.add_argument("--selector", required=True)
    p.add_argument("--domain", required=True)
    p.add_argument("files", nargs="+", metavar="FILE.eml")
    args = p.parse_args(argv)

    dnsfunc = make_dnsfunc(args.selector, args.domain, public_key_base64(args.public_key))
    logger = logging.getLogger("dkim_verify")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("dkim_verify.py: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    logger.propagate = False

    all_ok = True
    for path in args.files:
        with open(path, "rb") as f:
            message = f.read()
        try:
            ok = bool(dkim.verify(message, logger=logger, dnsfunc=dnsfunc))
        except Exception as e:  # dkim.verify catches DKIMException; anything else is a failure too
            print("dkim_verify.py: %s: %s: %s" % (path, type(e).__name__, e), file=sys.stderr)
            ok = False
        all_ok = all_ok and ok
        print("%s %s" % ("OK" if ok else "FAIL", path))
        sigs = signed_header_lists(message)
        if not sigs:
            print("  (no DKIM-Signature)")
        for h in sigs:
            print("  h=%s" % h)
    sys.stdout.flush()
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
