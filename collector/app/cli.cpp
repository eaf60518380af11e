#include "app/cli.h"

#include <cstring>

namespace sluice {

const char* usage() {
  return R"(usage:
  sluice [-c FILE] [--log-level LEVEL]     run a pipeline (Fluentd config syntax); without -c, the
                                           embedded default tails the bundled samples to stdout
  sluice --dry-run -c FILE                 check a configuration: errors as file:line: message
  sluice tail PATH... [options]            follow files without a config file
      --parser auto|cri|docker|json|none   line format (default auto: CRI or docker per line);
                                           or another parser needing no parameters, such as
                                           nginx, apache2, syslog (`sluice plugins` lists them)
      --from-head                          read files from their start
      --tag TAG                            tag (default tail.*; * expands to the path)
      --to TARGET                          where records go (default stdout): stdout, null,
                                           file:PATH, es://HOST[:PORT][/INDEX] (ess:// for
                                           https; os:// and oss:// for OpenSearch),
                                           kafka://BROKER[/TOPIC], forward://HOST[:PORT]
      --pos-file FILE                      remember positions across runs
      --exit-on-eof                        read to the end, flush, exit 0
  sluice plugins                           list supported plugins and their parameters
  sluice --version | --help
)";
}

bool parse_cli(int argc, char** argv, CliOptions& out, std::string& error) {
  int i = 1;
  if (i < argc && std::strcmp(argv[i], "tail") == 0) {
    out.mode = CliOptions::Mode::Tail;
    ++i;
  } else if (i < argc && std::strcmp(argv[i], "plugins") == 0) {
    out.mode = CliOptions::Mode::Plugins;
    return true;
  } else if (i < argc && std::strcmp(argv[i], "check-config") == 0) {
    out.mode = CliOptions::Mode::DryRun;
    ++i;
  }
  auto value = [&](const char* flag, std::string& dest) {
    if (i + 1 >= argc) {
      error = std::string(flag) + " needs a value";
      return false;
    }
    dest = argv[++i];
    return true;
  };
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      out.mode = CliOptions::Mode::Help;
      return true;
    } else if (a == "--version") {
      out.mode = CliOptions::Mode::Version;
      return true;
    } else if (a == "-c" || a == "--config") {
      if (!value("-c", out.config_path)) return false;
    } else if (a == "--dry-run") {
      if (out.mode == CliOptions::Mode::Run) out.mode = CliOptions::Mode::DryRun;
    } else if (a == "--log-level") {
      if (!value("--log-level", out.log_level)) return false;
    } else if (a == "-v") {
      out.log_level = "debug";
    } else if (a == "-q") {
      out.log_level = "warn";
    } else if (out.mode == CliOptions::Mode::Tail && a == "--parser") {
      if (!value("--parser", out.parser)) return false;
    } else if (out.mode == CliOptions::Mode::Tail && a == "--tag") {
      if (!value("--tag", out.tag)) return false;
    } else if (out.mode == CliOptions::Mode::Tail && a == "--to") {
      if (!value("--to", out.to)) return false;
    } else if (out.mode == CliOptions::Mode::Tail && a == "--pos-file") {
      if (!value("--pos-file", out.pos_file)) return false;
    } else if (out.mode == CliOptions::Mode::Tail && a == "--from-head") {
      out.from_head = true;
    } else if (out.mode == CliOptions::Mode::Tail && a == "--exit-on-eof") {
      out.exit_on_eof = true;
    } else if (out.mode == CliOptions::Mode::Tail && !a.empty() && a[0] != '-') {
      out.tail_paths.push_back(a);
    } else {
      error = "unknown option '" + a + "'";
      return false;
    }
  }
  if (out.mode == CliOptions::Mode::Tail && out.tail_paths.empty()) {
    error = "sluice tail needs at least one PATH";
    return false;
  }
  if (out.mode == CliOptions::Mode::Tail && out.exit_on_eof) out.from_head = true;
  return true;
}

namespace {
// Values go inside double quotes in the generated config.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (c == '#') {
      out += "\\#";  // no embedded Ruby from the command line
      continue;
    }
    out.push_back(c);
  }
  return out + "\"";
}

struct SearchTarget {
  std::string_view scheme;
  std::string_view type;
  bool https;
};

const SearchTarget* search_target(const std::string& to) {
  static constexpr SearchTarget targets[] = {{"es://", "elasticsearch", false},
                                             {"ess://", "elasticsearch", true},
                                             {"os://", "opensearch", false},
                                             {"oss://", "opensearch", true}};
  for (const SearchTarget& t : targets)
    if (to.starts_with(t.scheme)) return &t;
  return nullptr;
}
}  // namespace

bool tail_config(const CliOptions& o, std::string& config, std::string& error) {
  std::string paths;
  for (auto& p : o.tail_paths) paths += (paths.empty() ? "" : ",") + p;
  std::string parser = o.parser == "auto" ? "container" : o.parser;
  config = "<source>\n  @type tail\n  path " + quoted(paths) + "\n  tag " + quoted(o.tag) +
           "\n  read_from_head " + (o.from_head ? "true" : "false") +
           "\n  refresh_interval 1\n";
  if (!o.pos_file.empty()) config += "  pos_file " + quoted(o.pos_file) + "\n";
  config += "  <parse>\n    @type " + quoted(parser) + "\n  </parse>\n</source>\n";
  return match_block(o.to, config, error);
}

bool match_block(const std::string& to, std::string& config, std::string& error) {
  // HOST:PORT with a default port; false when the host is missing.
  auto host_port = [](const std::string& s, const char* default_port, std::string& host,
                      std::string& port) {
    size_t colon = s.rfind(':');
    if (colon != std::string::npos && s.find(']', colon) != std::string::npos) colon = std::string::npos;
    host = s.substr(0, colon);
    port = colon == std::string::npos ? default_port : s.substr(colon + 1);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    return !host.empty() && !port.empty();
  };
  config += "<match **>\n";
  if (to == "stdout") {
    config += "  @type stdout\n";
  } else if (to == "null") {
    config += "  @type null\n";
  } else if (to.rfind("file:", 0) == 0 && to.size() > 5) {
    config += "  @type file\n  path " + quoted(to.substr(5)) +
              "\n  append true\n  add_path_suffix false\n  <buffer []>\n    flush_interval 1s\n  </buffer>\n";
  } else if (to.rfind("kafka://", 0) == 0 && to.size() > 8) {
    // kafka://BROKER[,BROKER...][/TOPIC]; without a topic the tag is the topic.
    std::string rest = to.substr(8);
    size_t slash = rest.find('/');
    std::string brokers = rest.substr(0, slash);
    std::string topic = slash == std::string::npos ? "" : rest.substr(slash + 1);
    config += "  @type kafka2\n  brokers " + quoted(brokers) + "\n";
    if (!topic.empty()) config += "  default_topic " + quoted(topic) + "\n";
    config += "  close_timeout 10s\n  <format>\n    @type json\n  </format>\n";
  } else if (const SearchTarget* target = search_target(to)) {
    // es://HOST[:PORT][/INDEX] (ess:// for https, os:// and oss:// for OpenSearch); without an
    // index, logstash-YYYY.MM.DD.
    const std::string scheme(target->scheme);
    std::string rest = to.substr(scheme.size()), index, host, port;
    if (size_t slash = rest.find('/'); slash != std::string::npos) {
      index = rest.substr(slash + 1);
      rest = rest.substr(0, slash);
    }
    if (!host_port(rest, "9200", host, port)) {
      error = scheme + " needs a host, as " + scheme + "HOST[:PORT][/INDEX]";
      return false;
    }
    config += "  @type " + std::string(target->type) + "\n  host " + quoted(host) + "\n  port " + quoted(port) + "\n";
    if (target->https) config += "  scheme https\n";
    config += index.empty() ? std::string("  logstash_format true\n") : "  index_name " + quoted(index) + "\n";
    config += "  include_tag_key true\n  include_timestamp true\n  deterministic_id true\n"
              "  <buffer>\n    flush_mode immediate\n    retry_wait 1s\n    retry_max_interval 5s\n"
              "    retry_forever true\n  </buffer>\n";
  } else if (to.rfind("forward://", 0) == 0) {
    std::string host, port;
    if (!host_port(to.substr(10), "24224", host, port)) {
      error = "forward:// needs a host, as forward://HOST[:PORT]";
      return false;
    }
    config += "  @type forward\n  require_ack_response true\n  ack_response_timeout 30s\n"
              "  <server>\n    host " + quoted(host) + "\n    port " + quoted(port) +
              "\n  </server>\n  <buffer>\n    flush_interval 1s\n  </buffer>\n";
  } else {
    error = "unknown --to target '" + to +
            "' (stdout, null, file:PATH, es://HOST[:PORT][/INDEX], os://HOST[:PORT][/INDEX], "
            "kafka://BROKER[/TOPIC], forward://HOST[:PORT])";
    return false;
  }
  config += "</match>\n";
  return true;
}

std::string default_config() {
  return R"(# sluice's embedded default: follow the bundled CRI and docker samples, print to stdout.
<source>
  @type tail
  @id samples
  path "#{ENV['SLUICE_SAMPLES_DIR'] || ')" SLUICE_SOURCE_DIR R"(/deploy/samples'}/*.log"
  tag kubernetes.*
  read_from_head true
  refresh_interval 5
  <parse>
    @type container
  </parse>
</source>

<match **>
  @type stdout
</match>
)";
}

}  // namespace sluice
