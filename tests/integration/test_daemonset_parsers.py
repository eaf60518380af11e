"""Every `kubernetes/*.conf` of the fluentd-kubernetes-daemonset images passes `sluice --dry-run`
without "unknown parser type" errors: the parser types they use (kubernetes, multiline, regexp,
syslog, none, and the container parsers of tail_container_parse.conf) all exist.

Each file is a `<source>` section; it is run from a copy of its image's conf tree (so that
`@include ../tail_container_parse.conf` resolves) with a `<match **> @type null </match>` added."""
import glob
import os
import shutil

from harness import FIXTURES, SluiceTestCase, main, run, text

CONF_GLOB = os.path.join(FIXTURES, "fluentd-k8s-daemonset", "docker-image", "*", "*", "conf", "kubernetes", "*.conf")


class DaemonsetParsersTest(SluiceTestCase):
    def test_kubernetes_confs_have_known_parser_types(self):
        files = sorted(glob.glob(CONF_GLOB))
        self.assertGreaterEqual(len(files), 14, CONF_GLOB)
        failures = []
        for i, conf in enumerate(files):
            conf_dir = os.path.dirname(os.path.dirname(conf))  # .../conf
            tree = self.path("tree%d" % i)
            shutil.copytree(conf_dir, tree)
            wrapper = os.path.join(tree, "kubernetes", "sluice-wrapper-%s" % os.path.basename(conf))
            with open(wrapper, "w") as f:
                f.write("@include %s\n<match **>\n  @type null\n</match>\n" % os.path.basename(conf))
            r = run(["--dry-run", "-c", wrapper], env={"K8S_NODE_NAME": "node-1"})
            err = text(r.stderr) + text(r.stdout)
            if "unknown parser type" in err:
                failures.append("%s:\n%s" % (conf, err))
        self.assertEqual(failures, [], "\n".join(failures))

    def test_startupscript_and_kubelet_pass_dry_run(self):
        # The files that use the new types pass as a whole (not only the parser check).
        base = os.path.join(FIXTURES, "fluentd-k8s-daemonset", "docker-image", "v1.18", "debian-elasticsearch7", "conf")
        tree = self.path("tree")
        shutil.copytree(base, tree)
        for name in ["startupscript.conf", "kubelet.conf", "kube-proxy.conf", "kube-apiserver.conf"]:
            wrapper = os.path.join(tree, "kubernetes", "w-" + name)
            with open(wrapper, "w") as f:
                f.write("@include %s\n<match **>\n  @type null\n</match>\n" % name)
            r = run(["--dry-run", "-c", wrapper], env={"K8S_NODE_NAME": "node-1"})
            self.assertEqual(r.returncode, 0, "%s:\n%s" % (name, text(r.stderr)))


if __name__ == "__main__":
    main()
