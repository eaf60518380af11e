"""The command line and configuration checking: --version, --help, --dry-run with file:line
errors, and the real fluentd-kubernetes-daemonset configuration trees."""
import glob
import os
import shutil

from harness import FIXTURES, SluiceTestCase, main, run


class CliTest(SluiceTestCase):
    def test_version_and_help(self):
        r = run(["--version"])
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout.decode(), r"^sluice \d+\.\d+\.\d+")
        r = run(["--help"])
        self.assertEqual(r.returncode, 0)
        self.assertIn("sluice tail PATH", r.stdout.decode())

    def test_unknown_option_is_a_usage_error(self):
        r = run(["--frobnicate"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown option '--frobnicate'", r.stderr.decode())

    def test_plugins_lists_what_is_supported(self):
        r = run(["plugins"])
        self.assertEqual(r.returncode, 0)
        out = r.stdout.decode()
        for kind_type in ("input tail", "parser cri", "parser json", "parser regexp", "output stdout",
                          "output file", "output null", "output copy"):
            self.assertIn(kind_type + ":", out)

    def test_dry_run_accepts_a_valid_config(self):
        conf = self.config("""
<source>
  @type tail
  path %s/*.log
  tag kubernetes.*
  pos_file %s/pos
  <parse>
    @type cri
  </parse>
</source>
<match **>
  @type stdout
</match>
""" % (self.dir, self.dir))
        r = run(["--dry-run", "-c", conf])
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn("configuration is valid", r.stdout.decode())
        self.assertFalse(os.path.exists(self.path("pos")), "dry run must not create files")

    def test_dry_run_reports_every_error_with_file_and_line(self):
        conf = self.config("""<source>
  @type tail
  pathh /var/log/*.log
  tag x
  refresh_interval 5x
</source>
<match **>
  @type elasticsaerch
</match>
<filter **>
  @type no_such_filter
</filter>
""")
        r = run(["--dry-run", "-c", conf])
        self.assertEqual(r.returncode, 1)
        err = r.stderr.decode()
        self.assertIn(conf + ":3: unknown parameter 'pathh'", err)
        self.assertIn("did you mean 'path'", err)
        self.assertIn(conf + ":5:", err)
        self.assertIn("refresh_interval", err)
        self.assertIn(conf + ":7: unknown output plugin 'elasticsaerch'", err)
        self.assertIn(conf + ":10: unknown filter plugin 'no_such_filter'", err)

    def test_a_missing_parse_section_or_type_is_named(self):
        # (what the <source> ends with, the line the error names, the error)
        for body, line, message in (("", 1, "a <parse> section is required"),
                                    ("  <parse>\n  </parse>\n", 5, "<parse> needs @type")):
            conf = self.config("<source>\n  @type tail\n  path /var/log/*.log\n  tag x\n%s</source>\n"
                               "<match **>\n  @type null\n</match>\n" % body)
            r = run(["--dry-run", "-c", conf])
            self.assertEqual(r.returncode, 1)
            self.assertIn("%s:%d: %s" % (conf, line, message), r.stderr.decode())

    def test_worker_sections_are_checked(self):
        conf = self.config("""<system>
  workers 2
</system>
<worker>
</worker>
<worker 2>
</worker>
<worker 1-0>
</worker>
<worker 0>
  <system>
  </system>
</worker>
<worker 0-1>
  <match **>
    @type null
  </match>
</worker>
""")
        r = run(["--dry-run", "-c", conf])
        self.assertEqual(r.returncode, 1)
        err = r.stderr.decode()
        self.assertIn(conf + ":4: missing worker id on <worker> directive", err)
        self.assertIn(conf + ":6: <worker 2>: worker ids go from 0 to 1 (<system> workers 2)", err)
        self.assertIn(conf + ":8: <worker 1-0>: the first worker id is greater than the last", err)
        self.assertIn(conf + ":11: <worker> section cannot have <system> directive", err)
        self.assertIn(conf + ":14: worker 0 is named by two <worker> sections", err)

    def test_a_tail_pos_file_that_differs_between_workers_is_an_error(self):
        conf = self.config("""<system>
  workers 2
</system>
<source>
  @type tail
  path /var/log/*.log
  tag x
  pos_file "/var/log/tail.#{worker_id}.pos"
  <parse>
    @type none
  </parse>
</source>
""")
        r = run(["--dry-run", "-c", conf])
        self.assertEqual(r.returncode, 1)
        self.assertIn(conf + ":8: pos_file differs between workers", r.stderr.decode())

    def test_unclosed_section_and_missing_include(self):
        conf = self.config("<match **>\n  @type stdout\n")
        r = run(["--dry-run", "-c", conf])
        self.assertEqual(r.returncode, 1)
        self.assertIn(conf + ":1:", r.stderr.decode())
        conf = self.config("@include nothere.conf\n", "inc.conf")
        r = run(["--dry-run", "-c", conf])
        self.assertEqual(r.returncode, 1)
        self.assertIn(conf + ":1:", r.stderr.decode())
        self.assertIn("nothere.conf", r.stderr.decode())

    def test_unsupported_embedded_ruby_is_a_clear_error(self):
        conf = self.config('<match **>\n  @type stdout\n  @id "#{`rm -rf /`}"\n</match>\n')
        r = run(["--dry-run", "-c", conf])
        self.assertEqual(r.returncode, 1)
        self.assertIn(conf + ":3:", r.stderr.decode())

    def test_env_forms_expand(self):
        conf = self.config("""<source>
  @type tail
  path "#{ENV['SLUICE_TEST_DIR']}/*.log"
  tag "#{ENV['SLUICE_NO_SUCH_VAR'] || 'fallback'}.*"
  pos_file "#{ENV.fetch('SLUICE_NO_SUCH_VAR', '/nonexistent')}/pos"
  <parse>
    @type none
  </parse>
</source>
<match fallback.**>
  @type null
</match>
""")
        r = run(["--dry-run", "-c", conf], env={"SLUICE_TEST_DIR": self.dir})
        self.assertEqual(r.returncode, 0, r.stderr.decode())

    def test_daemonset_configs_pass_dry_run_unchanged(self):
        trees = sorted(glob.glob(os.path.join(FIXTURES, "fluentd-k8s-daemonset/docker-image/*/*/conf/fluent.conf")))
        self.assertGreaterEqual(len(trees), 9)
        env = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443",
               "K8S_NODE_NAME": "node-1"}
        for conf in trees:
            r = run(["--dry-run", "-c", conf], env=env)
            # Every plugin and parameter of the images' trees is known: they pass as they are.
            self.assertEqual(r.returncode, 0, "%s:\n%s" % (conf, r.stderr.decode()))
            self.assertIn("configuration is valid", r.stdout.decode() + r.stderr.decode(), conf)

    def test_opensearch_and_forward_image_configs_pass_dry_run_unchanged(self):
        data = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data/fluentd-k8s-daemonset")
        es8 = os.path.join(FIXTURES, "fluentd-k8s-daemonset/docker-image/v1.19/debian-elasticsearch8/conf")
        env = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443",
               "K8S_NODE_NAME": "node-1", "FLUENT_OPENSEARCH_HOST": "opensearch", "FLUENT_OPENSEARCH_PORT": "9200",
               "FLUENT_FORWARD_HOST": "aggregator", "FLUENT_FORWARD_PORT": "24224"}
        for image in ("opensearch", "forward"):
            tree = self.path(image)
            shutil.copytree(es8, tree)
            shutil.copyfile(os.path.join(data, image, "fluent.conf"), os.path.join(tree, "fluent.conf"))
            r = run(["--dry-run", "-c", os.path.join(tree, "fluent.conf")], env=env)
            self.assertEqual(r.returncode, 0, "%s:\n%s" % (image, r.stderr.decode()))

    def test_log_level_from_the_command_line_wins_over_system(self):
        def conf(system):
            return self.config("""<system>
%s
</system>
<source>
  @type tail
  path %s/*.log
  tag t
  <parse>
    @type none
  </parse>
</source>
<match **>
  @type null
</match>
""" % (system, self.dir), name="level.conf")

        def info_lines(args, system):
            p = self.start(["-c", conf(system)] + args, ready=False)
            # Running (at warn nothing says so): threads are started only once SIGTERM is handled.
            p.wait_until(lambda: len(os.listdir("/proc/%d/task" % p.pid)) >= 2, 10, "threads")
            self.assertEqual(p.stop(), 0)
            return [l for l in p.stderr().splitlines() if "[info]" in l]

        # <system> without log_level leaves the command line's level alone (it used to reset it).
        self.assertEqual(info_lines(["--log-level", "warn"], "  workers 2"), [])
        self.assertEqual(info_lines(["--log-level", "warn"], "  log_level debug"), [])
        self.assertNotEqual(info_lines([], "  workers 2"), [])
        self.assertEqual(info_lines([], "  log_level warn"), [])


if __name__ == "__main__":
    main()
