"""The forward protocol's <security> handshake (shared_key, username/password), both sides:
out_forward against a server written from the protocol specification (HELO with a nonce and a
salt for user authentication, PING checked digest by digest, PONG proving the server knows the
key), in_forward against a client written the same way, and sluice to sluice."""
import hashlib
import os
import socket
import time

from test_forward import Receiver, forward_conf, free_port, msgpack, sender, start_tail_to_forward

import harness

KEY = "s3cret-shared"


def sha512_hex(*parts):
    h = hashlib.sha512()
    for p in parts:
        h.update(p if isinstance(p, bytes) else p.encode())
    return h.hexdigest()


class SecureReceiver(Receiver):
    """A Receiver that opens every connection with the handshake of Fluentd's in_forward.
    `pong_key` lets it answer with another key than it checks with (a server that does not know
    the key but claims to); `users` turns on user authentication."""

    def __init__(self, shared_key, hostname="aggregator.test", users=None, pong_key=None):
        self.shared_key = shared_key
        self.hostname = hostname
        self.users = users
        self.pong_key = pong_key if pong_key is not None else shared_key
        self.pings = []  # (client hostname, username) of the PINGs accepted
        self.refused = []
        super().__init__("ack")

    def _serve(self, conn):
        conn.settimeout(10)
        nonce, auth = os.urandom(16), os.urandom(16) if self.users else b""
        conn.sendall(msgpack.packb(["HELO", {"nonce": nonce, "auth": auth, "keepalive": True}],
                                   use_bin_type=True))
        unpacker = msgpack.Unpacker(raw=False)
        ping = None
        while ping is None:
            try:
                data = conn.recv(65536)
            except OSError:
                data = b""
            if not data:
                conn.close()  # a transport heartbeat: connect and close
                return
            unpacker.feed(data)
            for obj in unpacker:
                ping = obj
                break
        ok, reason = self.check_ping(ping, nonce, auth)
        if not ok:
            with self.lock:
                self.refused.append(reason)
            conn.sendall(msgpack.packb(["PONG", False, reason, "", ""]))
            conn.close()
            return
        salt = ping[2] if isinstance(ping[2], bytes) else ping[2].encode()
        digest = sha512_hex(salt, self.hostname, nonce, self.pong_key)
        conn.sendall(msgpack.packb(["PONG", True, "", self.hostname, digest]))
        super()._serve(conn)

    def check_ping(self, ping, nonce, auth):
        if not isinstance(ping, list) or len(ping) != 6 or ping[0] != "PING":
            return False, "invalid ping message"
        _, hostname, salt, key_digest, username, password_digest = ping
        salt = salt if isinstance(salt, bytes) else salt.encode()
        if key_digest != sha512_hex(salt, hostname, nonce, self.shared_key):
            return False, "shared_key mismatch"
        if self.users is not None:
            if username not in self.users or password_digest != sha512_hex(auth, username, self.users[username]):
                return False, "username/password mismatch"
        with self.lock:
            self.pings.append((hostname, username))
        return True, ""


class ForwardSecurityTest(harness.SluiceTestCase):
    def start_secure(self, port, security, server_extra=""):
        return start_tail_to_forward(self, [port], 30, extra="  <security>\n%s\n  </security>" % security,
                                     server_extra=server_extra)[0]

    def test_shared_key_handshake_then_chunks(self):
        recv = SecureReceiver(KEY)
        try:
            s = self.start_secure(recv.port, "    self_hostname node-a.test\n    shared_key %s" % KEY)
            self.assertEqual(recv.wait_messages(30), ["line %04d" % i for i in range(30)])
            self.assertEqual(recv.errors, [])
            self.assertEqual(recv.refused, [])
            self.assertIn(("node-a.test", ""), recv.pings)
            self.assertEqual(s.stop(), 0)
        finally:
            recv.stop()

    def test_username_and_password_when_the_server_asks(self):
        recv = SecureReceiver(KEY, users={"alice": "pa55word"})
        try:
            s = self.start_secure(recv.port, "    self_hostname node-a.test\n    shared_key %s" % KEY,
                           "    username alice\n    password pa55word")
            self.assertEqual(recv.wait_messages(30), ["line %04d" % i for i in range(30)])
            self.assertIn(("node-a.test", "alice"), recv.pings)
            self.assertEqual(s.stop(), 0)
            self.assertNotIn("pa55word", s.stderr())
            self.assertNotIn(KEY, s.stderr())
        finally:
            recv.stop()

    def test_a_wrong_key_is_refused_and_never_logged(self):
        recv = SecureReceiver("the-servers-key")
        try:
            s = self.start_secure(recv.port, "    self_hostname node-a.test\n    shared_key %s" % KEY)
            s.wait_until(lambda: 'authentication failed: "shared_key mismatch"' in s.stderr(), 10,
                         "the refusal in the log")
            self.assertEqual(recv.frames, [])
            self.assertNotIn(KEY, s.stderr())
            s.kill()  # a clean stop would first retry the undeliverable chunks for a while
        finally:
            recv.stop()

    def test_a_server_that_cannot_prove_the_key_gets_no_chunks(self):
        # It accepts any PING but answers with another key: not the server we were told of.
        recv = SecureReceiver(KEY, pong_key="guessed")
        try:
            s = self.start_secure(recv.port, "    self_hostname node-a.test\n    shared_key %s" % KEY)
            s.wait_until(lambda: "shared key mismatch: the server's PONG" in s.stderr(), 10,
                         "the client's refusal")
            time.sleep(0.5)
            self.assertEqual(recv.frames, [])
            s.kill()
        finally:
            recv.stop()

    def test_security_mistakes_are_configuration_errors(self):
        for security, extra, want in (
                ("    shared_key x", "", "<security> needs self_hostname"),
                ("    self_hostname a", "", "<security> needs shared_key"),
                ("    self_hostname a\n    shared_key x\n    shared_kye y", "", "unknown <security> parameter 'shared_kye'")):
            conf = self.config("""
<source>
  @type forward
  port %d
</source>
<match **>
  @type forward
  <security>
%s
  </security>
  <server>
    host 127.0.0.1
%s
  </server>
</match>
""" % (free_port(), security, extra), name="bad.conf")
            r = harness.run(["-c", conf, "--dry-run"], timeout=10)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn(want, harness.text(r.stderr))


def read_message(conn, unpacker):
    while True:
        for obj in unpacker:
            return obj
        data = conn.recv(65536)
        if not data:
            return None
        unpacker.feed(data)


class InForwardSecurityTest(harness.SluiceTestCase):
    SECURITY = """  <security>
    self_hostname aggregator.test
    shared_key %s
%s
  </security>"""

    def start_in_forward(self, security):
        port = free_port()
        return self.start(["-c", forward_conf(self, port, security)]), port

    def handshake(self, port, key, user="", password=""):
        """A client following the specification; returns (socket, PONG)."""
        conn = socket.create_connection(("127.0.0.1", port))
        conn.settimeout(5)
        unpacker = msgpack.Unpacker(raw=False)
        helo = read_message(conn, unpacker)
        self.assertEqual(helo[0], "HELO")
        nonce, auth = helo[1]["nonce"], helo[1]["auth"]
        salt = os.urandom(16)
        ping = ["PING", "client.test", salt, sha512_hex(salt, "client.test", nonce, key),
                user, sha512_hex(auth, user, password) if auth else ""]
        conn.sendall(msgpack.packb(ping, use_bin_type=True))
        pong = read_message(conn, unpacker)
        if pong[1]:
            # The server proves it knows the key.
            self.assertEqual(pong[4], sha512_hex(salt, pong[3], nonce, key))
        return conn, unpacker, pong

    def test_a_client_with_the_key_is_served_and_others_refused(self):
        s, port = self.start_in_forward(self.SECURITY % (KEY, ""))
        conn, unpacker, pong = self.handshake(port, "wrong-key")
        self.assertEqual(pong, ["PONG", False, "shared_key mismatch", "", ""])
        self.assertIsNone(read_message(conn, unpacker), "the connection stays open after a refusal")
        conn.close()

        # A client without <security> (fluent-logger) sends events at once: refused, not read.
        plain = sender.FluentSender("app", host="127.0.0.1", port=port)
        plain.emit("plain", {"m": "anonymous"})
        plain.close()
        s.wait_until(lambda: "invalid ping message" in s.stderr(), 10, "the refusal")

        conn, _, pong = self.handshake(port, KEY)
        self.assertEqual(pong[:4], ["PONG", True, "", "aggregator.test"])
        conn.sendall(msgpack.packb(["app.secure", 1714564800, {"m": "authenticated"}]))
        recs = s.wait_records(1)
        self.assertEqual([(tag, r) for _, tag, r in recs], [("app.secure", {"m": "authenticated"})])
        conn.close()
        err = s.stderr()
        self.assertIn("refusing the connection from 127.0.0.1:", err)
        self.assertIn("shared_key mismatch", err)
        self.assertNotIn(KEY, err)
        self.assertEqual(s.stop(), 0)

    def test_user_authentication(self):
        users = "    user_auth true\n    <user>\n      username node\n      password pa55word\n    </user>"
        s, port = self.start_in_forward(self.SECURITY % (KEY, users))
        conn, _, pong = self.handshake(port, KEY, "node", "guess")
        self.assertEqual(pong, ["PONG", False, "username/password mismatch", "", ""])
        conn.close()
        conn, _, pong = self.handshake(port, KEY, "node", "pa55word")
        self.assertTrue(pong[1])
        conn.close()
        self.assertNotIn("pa55word", s.stderr())
        self.assertEqual(s.stop(), 0)

    def test_client_rules_choose_the_key_and_the_users(self):
        # The first <client> covering 127.0.0.1 (a network, then a host) decides: its own key,
        # and only the users it lists. A network that does not cover it is skipped.
        rules = """    user_auth true
    <user>
      username alice
      password a-pass
    </user>
    <user>
      username bob
      password b-pass
    </user>
    <client>
      network 10.0.0.0/8
      shared_key ten-key
    </client>
    <client>
      network 127.0.0.0/8
      shared_key loopback-key
      users ["alice"]
    </client>
    <client>
      host 127.0.0.1
      shared_key never-reached
    </client>"""
        s, port = self.start_in_forward(self.SECURITY % (KEY, rules))
        for key, user, password, want in [
                (KEY, "alice", "a-pass", "shared_key mismatch"),
                ("ten-key", "alice", "a-pass", "shared_key mismatch"),
                ("loopback-key", "bob", "b-pass", "username/password mismatch"),
                ("loopback-key", "alice", "a-pass", None)]:
            conn, _, pong = self.handshake(port, key, user, password)
            conn.close()
            if want:
                self.assertEqual(pong, ["PONG", False, want, "", ""], (key, user))
            else:
                self.assertEqual(pong[:4], ["PONG", True, "", "aggregator.test"])
        for secret in ("loopback-key", "ten-key", "a-pass", "b-pass"):
            self.assertNotIn(secret, s.stderr())
        self.assertEqual(s.stop(), 0)

    def test_anonymous_sources_can_be_refused(self):
        rules = "    allow_anonymous_source false\n    <client>\n      network 192.168.0.0/16\n    </client>"
        s, port = self.start_in_forward(self.SECURITY % (KEY, rules))
        conn, _, pong = self.handshake(port, KEY)
        conn.close()
        self.assertEqual(pong, ["PONG", False, "anonymous source host '127.0.0.1' denied", "", ""])
        s.wait_until(lambda: "anonymous source host '127.0.0.1' denied" in s.stderr(), 10, "the refusal in the log")
        self.assertEqual(s.stop(), 0)

    def test_sluice_to_sluice(self):
        users = "    user_auth true\n    <user>\n      username node\n      password pa55word\n    </user>"
        aggregator, port = self.start_in_forward(self.SECURITY % (KEY, users))
        node = start_tail_to_forward(self, [port], 30,
                                     extra="  <security>\n    self_hostname node.test\n    shared_key %s\n  </security>" % KEY,
                                     server_extra="    username node\n    password pa55word")[0]
        recs = aggregator.wait_records(30)
        self.assertEqual(sorted(r["message"] for _, _, r in recs), ["line %04d" % i for i in range(30)])
        self.assertEqual(node.stop(), 0)
        self.assertEqual(aggregator.stop(), 0)

    def test_security_mistakes_are_configuration_errors(self):
        for security, want in (
                (self.SECURITY % (KEY, "    user_auth true"), "user_auth true needs at least one <user>"),
                (self.SECURITY % (KEY, "    <client>\n      host 10.0.0.1\n      network 10.0.0.0/8\n    </client>"),
                 "both of 'host' and 'network' are specified for client"),
                (self.SECURITY % (KEY, "    <client>\n      shared_key x\n    </client>"),
                 "either of 'host' and 'network' must be specified for client"),
                (self.SECURITY % (KEY, "    <client>\n      network 10.0.0.0/33\n    </client>"),
                 "network '10.0.0.0/33' address format is invalid"),
                (self.SECURITY % (KEY, "    <client>\n      network 10.0.0.0/8\n      usrs a\n    </client>"),
                 "unknown <client> parameter 'usrs'"),
                (self.SECURITY % (KEY, "    allow_anonymous_source false"),
                 "allow_anonymous_source false needs at least one <client>"),
                ("  <security>\n    shared_key x\n  </security>", "<security> needs self_hostname")):
            conf = self.config("<source>\n  @type forward\n  port %d\n%s\n</source>\n" % (free_port(), security),
                               name="bad-in.conf")
            r = harness.run(["-c", conf, "--dry-run"], timeout=10)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn(want, harness.text(r.stderr))


if __name__ == "__main__":
    harness.main()
