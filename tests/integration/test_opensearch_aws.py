"""`@type opensearch` with `<endpoint>`: requests signed with AWS SigV4 for Amazon OpenSearch
Service, the test server checking each signature as AWS does, and credentials from each place the
AWS SDKs look: the configuration, a web identity (EKS IRSA) at STS, the container endpoint (EKS Pod
Identity), the instance profile (IMDSv2). Secrets never reach the log."""
import json
import os
import time

from aws_support import CredentialsServer
from es_support import EsServer, es_match
from harness import SluiceTestCase, main, tail_source

ROLE = "arn:aws:iam::123456789012:role/sluice-logs"
# Static keys, then the temporary ones the credentials server hands out in turn.
STATIC = ["AKIASTATICKEY0001", "static/secret+key0001", None]
TEMPORARY = [["ASIATEMPKEY%04d" % i, "temp/secret+%04d" % i, "session-token-%04d" % i] for i in range(1, 4)]


class OpenSearchAwsTest(SluiceTestCase):
    def start_domain(self, keys):
        keys_file = self.write("accepted-keys.json", json.dumps(keys))
        domain = EsServer(self.dir, "--distribution", "opensearch", "--version", "2.11.1",
                          "--aws-sigv4", "eu-west-1:es", "--aws-keys", keys_file).start()
        self.addCleanup(domain.stop)
        return domain

    def ship(self, domain, endpoint_extra="", env=None, lines=3, extra=""):
        log = self.write("app.log", "".join("2024-05-01T12:00:0%dZ stdout F line %d\n" % (i, i) for i in range(lines)))
        endpoint = """
  <endpoint>
    url http://127.0.0.1:%d
    region eu-west-1
    %s
  </endpoint>""" % (domain.port, endpoint_extra)
        conf = self.config(tail_source(log, self.path("tail.pos"), "app") + es_match(domain.port, "index_name logs\n  %s%s" % (extra, endpoint), type="opensearch"))
        return self.start(["-c", conf], env=env)

    def messages(self, domain):
        return sorted(d["message"] for d in domain.all_sources())

    def test_static_keys_sign_the_version_probe_and_gzipped_bulk_bodies(self):
        domain = self.start_domain([STATIC])
        p = self.ship(domain, "access_key_id %s\n    secret_access_key %s" % tuple(STATIC[:2]),
                      extra="compression_level best_speed")
        p.wait_until(lambda: len(domain.all_sources()) >= 3, 20, "3 documents")
        self.assertEqual(p.stop(), 0)
        self.assertEqual(self.messages(domain), ["line 0", "line 1", "line 2"])
        stats = domain.stats()
        self.assertEqual(stats["sigv4_failures"], 0)
        self.assertGreaterEqual(stats["sigv4_ok"], 2)  # GET / and at least one _bulk
        self.assertEqual(domain.requests()[0]["headers"]["Content-Encoding"], "gzip")
        self.assertIn("signing requests with AWS credentials from the access key of the configuration", p.stderr())
        self.assertNotIn(STATIC[1], p.stderr())

    def test_a_wrong_secret_is_refused_and_retried_without_loss_or_leak(self):
        domain = self.start_domain([STATIC])
        p = self.ship(domain, "access_key_id %s\n    secret_access_key wrong-secret-value" % STATIC[0],
                      extra="verify_os_version_at_startup false\n  default_opensearch_version 2")
        p.wait_until(lambda: domain.stats()["sigv4_failures"] >= 2, 20, "refused requests")
        p.stop()
        self.assertEqual(domain.all_sources(), [])
        self.assertIn("403", p.stderr())
        self.assertNotIn("wrong-secret-value", p.stderr())

    def test_web_identity_irsa_from_the_environment(self):
        token_file = self.write("token", "eyJhbGciOiJSUzI1NiJ9.web-identity.token\n")
        creds = CredentialsServer(self, TEMPORARY, "--role-arn", ROLE,
                                  "--web-identity-token", "eyJhbGciOiJSUzI1NiJ9.web-identity.token")
        domain = self.start_domain(TEMPORARY)
        # What EKS puts into a pod whose service account has an IAM role.
        env = {"AWS_ROLE_ARN": ROLE, "AWS_WEB_IDENTITY_TOKEN_FILE": token_file, "AWS_ENDPOINT_URL_STS": creds.url}
        p = self.ship(domain, env=env)
        p.wait_until(lambda: len(domain.all_sources()) >= 3, 20, "3 documents")
        self.assertEqual(p.stop(), 0)
        self.assertEqual(self.messages(domain), ["line 0", "line 1", "line 2"])
        self.assertEqual(domain.stats()["sigv4_keys"], [TEMPORARY[0][0]])
        self.assertEqual(creds.stats()["session_names"], ["fluentd"])
        self.assertIn("web identity (role %s)" % ROLE, p.stderr())
        for secret in (TEMPORARY[0][1], TEMPORARY[0][2], "web-identity.token"):
            self.assertNotIn(secret, p.stderr())

    def test_web_identity_errors_are_told_and_retried(self):
        token_file = self.write("token", "not-the-token")
        creds = CredentialsServer(self, TEMPORARY, "--role-arn", ROLE, "--web-identity-token", "the-token")
        domain = self.start_domain(TEMPORARY)
        p = self.ship(domain, "assume_role_arn %s\n    assume_role_web_identity_token_file %s" % (ROLE, token_file),
                      env={"AWS_ENDPOINT_URL_STS": creds.url})
        p.wait_until(lambda: "InvalidIdentityToken" in p.stderr(), 20, "the STS error in the log")
        with open(token_file, "w") as f:
            f.write("the-token")  # the token file is read again on every try, as kubelet rotates it
        p.wait_until(lambda: len(domain.all_sources()) >= 3, 30, "3 documents")
        self.assertEqual(p.stop(), 0)
        self.assertNotIn("the-token", p.stderr())

    def test_expiring_credentials_are_fetched_again(self):
        # Credentials that expire in 302 s are due for renewal 2 s after they came (5 min ahead).
        creds = CredentialsServer(self, TEMPORARY, "--container-token", "pod-identity-token", "--expires-in", "302")
        domain = self.start_domain(TEMPORARY)
        token_file = self.write("pod-identity-token", "pod-identity-token")
        env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": creds.url + "/creds",
               "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": token_file}
        p = self.ship(domain, env=env, lines=1)
        p.wait_until(lambda: len(domain.all_sources()) >= 1, 20, "the first document")
        time.sleep(2.5)
        with open(self.path("app.log"), "a") as f:
            f.write("2024-05-01T12:00:09Z stdout F line 9\n")
        p.wait_until(lambda: len(domain.all_sources()) >= 2, 20, "the second document")
        self.assertEqual(p.stop(), 0)
        self.assertEqual(self.messages(domain), ["line 0", "line 9"])
        self.assertGreaterEqual(creds.stats()["container"], 2)
        self.assertEqual(domain.stats()["sigv4_keys"][:2], [TEMPORARY[0][0], TEMPORARY[1][0]])

    def test_instance_profile_imdsv2(self):
        creds = CredentialsServer(self, TEMPORARY)
        domain = self.start_domain(TEMPORARY)
        p = self.ship(domain, env={"AWS_EC2_METADATA_SERVICE_ENDPOINT": creds.url})
        p.wait_until(lambda: len(domain.all_sources()) >= 3, 20, "3 documents")
        self.assertEqual(p.stop(), 0)
        self.assertEqual(creds.stats()["imds"], 1)
        self.assertEqual(domain.stats()["sigv4_failures"], 0)


if __name__ == "__main__":
    main()
