#!/usr/bin/python3
"""A real SMTP server for khabar's integration tests (Debian python3-aiosmtpd).

Usage:
    /usr/bin/python3 smtp_sink.py --dir OUTDIR [--port 0] [--hold-after N]
        [--reject-rcpt-regex REGEX] [--tempfail-rcpt-regex REGEX]

* Listens on 127.0.0.1:PORT (0 = an ephemeral port) and prints exactly one line
  `LISTENING <port>` on stdout once it accepts connections.
* Every accepted message is written to OUTDIR/<counter>-<random>.eml (counter
  zero-padded to 6 digits, from 000001), byte for byte as received after the
  DATA dot-unstuffing, nothing prepended. Each file is written under a
  `.tmp-*` name first and renamed, so a file ending in .eml is always complete.
* EHLO offers 8BITMIME (and SIZE); no SMTPUTF8, no STARTTLS, no AUTH.
* --reject-rcpt-regex: RCPT addresses matching (re.search) get
  `550 5.1.1 No such user`; --tempfail-rcpt-regex: `451 4.3.0 Try again later`.
* --hold-after N: at most N transactions are let through RCPT; every RCPT of a
  further transaction is never answered (it waits forever), so a test can kill
  the client at a clean message boundary. A transaction holds its slot from its
  first accepted RCPT until DATA is accepted, or gives it back on RSET or when
  its connection is lost, so exactly N messages are accepted when every admitted
  transaction completes. Once N messages have been accepted and at least one
  RCPT is being held, OUTDIR/HOLDING is written (atomically; it contains N).
* Exits cleanly (status 0) on SIGTERM or SIGINT.
"""

import argparse
import asyncio
import os
import re
import secrets
import signal
import sys

from aiosmtpd.smtp import SMTP

HOSTNAME = "smtp-sink.test"


class Sink:
    """The aiosmtpd handler: hooks are called as handle_<COMMAND>."""

    def __init__(self, outdir, hold_after, reject_re, tempfail_re):
        self.outdir = outdir
        self.hold_after = hold_after
        self.reject_re = reject_re
        self.tempfail_re = tempfail_re
        self.accepted = 0  # messages written
        self.admitted = 0  # transactions let through RCPT and not yet finished or released
        self.held = 0  # RCPT commands currently held
        self.holding_written = False
        self.forever = None  # a future nobody completes, created in the loop

    # ------------------------------------------------------------ helpers
    def _write_atomic(self, name, data):
        tmp = os.path.join(self.outdir, ".tmp-%s-%s" % (name, secrets.token_hex(4)))
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, os.path.join(self.outdir, name))

    def _maybe_write_holding(self):
        if (
            not self.holding_written
            and self.hold_after is not None
            and self.held > 0
            and self.accepted >= self.hold_after
        ):
            self.holding_written = True
            self._write_atomic("HOLDING", b"%d\n" % self.accepted)

    def release(self, session):
        """Gives back the slot of a transaction that will not reach DATA."""
        if getattr(session, "sink_reserved", False):
            session.sink_reserved = False
            self.admitted -= 1

    # ------------------------------------------------------------ hooks
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reserved = getattr(session, "sink_reserved", False)
        if self.hold_after is not None and not reserved and self.admitted >= self.hold_after:
            if self.forever is None:
                self.forever = asyncio.get_running_loop().create_future()
            self.held += 1
            self._maybe_write_holding()
            try:
                await asyncio.shield(self.forever)  # never completes; cancelled when the client goes
            finally:
                self.held -= 1
        if self.reject_re is not None and self.reject_re.search(address):
            return "550 5.1.1 No such user"
        if self.tempfail_re is not None and self.tempfail_re.search(address):
            return "451 4.3.0 Try again later"
        if not reserved:
            session.sink_reserved = True
            self.admitted += 1
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_RSET(self, server, session, envelope):
        self.release(session)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content
        if isinstance(data, str):  # not with decode_data=False; kept for safety
            data = data.encode("utf-8", "surrogateescape")
        self.accepted += 1
        if getattr(session, "sink_reserved", False):
            session.sink_reserved = False  # the slot is now a message
        else:  # cannot happen (DATA needs an accepted RCPT), but keep the books straight
            self.admitted += 1
        name = "%06d-%s.eml" % (self.accepted, secrets.token_hex(6))
        self._write_atomic(name, bytes(data))
        self._maybe_write_holding()
        return "250 2.0.0 OK: queued as %s" % name


class SinkSMTP(SMTP):
    def connection_lost(self, error):
        self.event_handler.release(self.session)
        super().connection_lost(error)


async def main(args):
    os.makedirs(args.dir, exist_ok=True)
    sink = Sink(
        args.dir,
        args.hold_after,
        re.compile(args.reject_rcpt_regex) if args.reject_rcpt_regex else None,
        re.compile(args.tempfail_rcpt_regex) if args.tempfail_rcpt_regex else None,
    )
    loop = asyncio.get_running_loop()
    protocols = set()

    def factory():
        proto = SinkSMTP(
            sink,
            hostname=HOSTNAME,
            decode_data=False,  # keep the bytes exactly as sent (DKIM)
            enable_SMTPUTF8=False,
            data_size_limit=10 * 1024 * 1024,
            timeout=24 * 3600,  # a held RCPT must not time out during a test
        )
        protocols.add(proto)
        return proto

    server = await loop.create_server(factory, host="127.0.0.1", port=args.port, reuse_address=True)
    port = server.sockets[0].getsockname()[1]
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    sys.stdout.write("LISTENING %d\n" % port)
    sys.stdout.flush()

    await stop.wait()
    server.close()
    for proto in list(protocols):
        transport = getattr(proto, "transport", None)
        if transport is not None:
            transport.close()
    # Let the handler tasks see their connections go before the loop ends.
    await asyncio.sleep(0.05)


def parse_args(argv):
    p = argparse.ArgumentParser(description="SMTP sink for khabar's integration tests")
    p.add_argument("--dir", required=True, help="folder for the received .eml files")
    p.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = ephemeral)")
    p.add_argument("--hold-after", type=int, default=None, metavar="N",
                   help="after N accepted messages, never answer RCPT again")
    p.add_argument("--reject-rcpt-regex", default=None, metavar="REGEX",
                   help="RCPT addresses matching get 550 5.1.1")
    p.add_argument("--tempfail-rcpt-regex", default=None, metavar="REGEX",
                   help="RCPT addresses matching get 451 4.3.0")
    args = p.parse_args(argv)
    if args.hold_after is not None and args.hold_after < 0:
        p.error("--hold-after must be >= 0")
    return args


if __name__ == "__main__":
    asyncio.run(main(parse_args(sys.argv[1:])))
    sys.exit(0)
