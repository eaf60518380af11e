// kafka_mock_broker: a Kafka cluster for tests, from librdkafka's mock cluster (rdkafka_mock.h).
// The brokers speak the Kafka protocol on loopback TCP ports; they keep what is produced in
// memory (the mock prunes a partition's log beyond ~5 MB, so read back small tests only).
//
//   kafka_mock_broker [--brokers N] [--topic NAME[:PARTITIONS[:REPLICATION]]]... [--fifo PATH]
//
// Prints the bootstrap address (`127.0.0.1:port,...`) as the first line on stdout, then reads one
// command per line from stdin (or from the FIFO given with --fifo, reopened at each writer's
// end) and answers each with one line starting with `ok` or `error`:
//
//   topic NAME PARTITIONS [REPLICATION]          create a topic
//   topic_error NAME ERR                         metadata for NAME returns ERR (0 clears);
//                                                UNKNOWN_TOPIC_OR_PART mimics "no auto-create"
//   errors APIKEY ERR [ERR...]                   the next requests of APIKEY fail with ERRs
//   broker_errors BROKER APIKEY ERR[@RTT] [...]  the same, on one broker (optional delay in ms)
//   clear APIKEY                                 forget pushed errors for APIKEY
//   down BROKER | up BROKER                      disconnect a broker / let it back
//   rtt BROKER MS                                delay a broker's responses
//   leader TOPIC PARTITION BROKER                move a partition's leader (-1: none)
//   watermarks TOPIC                             `ok total=N p0=lo-hi p1=...` (high watermarks)
//   ping                                         `ok`
//   quit                                         exit
//
// APIKEY is a number or a name (Produce, Fetch, Metadata, InitProducerId, ApiVersions, ...);
// ERR is a number or a librdkafka error name without the RD_KAFKA_RESP_ERR_ prefix
// (NOT_LEADER_FOR_PARTITION, REQUEST_TIMED_OUT, _TRANSPORT, ...). At the end of the input the
// helper keeps running until SIGTERM or SIGINT.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

volatile sig_atomic_t g_stop = 0;

const std::map<std::string, int16_t>& api_keys() {
  static const std::map<std::string, int16_t> keys = {
      {"produce", 0},          {"fetch", 1},          {"listoffsets", 2},   {"offsets", 2},
      {"metadata", 3},         {"offsetcommit", 8},   {"offsetfetch", 9},   {"findcoordinator", 10},
      {"joingroup", 11},       {"heartbeat", 12},     {"leavegroup", 13},   {"syncgroup", 14},
      {"saslhandshake", 17},   {"apiversions", 18},   {"createtopics", 19}, {"initproducerid", 22},
      {"addpartitionstotxn", 24}, {"endtxn", 26},     {"saslauthenticate", 36},
  };
  return keys;
}

bool parse_api_key(const std::string& s, int16_t& out) {
  char* end = nullptr;
  long v = strtol(s.c_str(), &end, 10);
  if (!s.empty() && *end == 0) {
    out = static_cast<int16_t>(v);
    return true;
  }
  std::string lower;
  for (char c : s) lower.push_back(static_cast<char>(tolower(static_cast<unsigned char>(c))));
  auto it = api_keys().find(lower);
  if (it == api_keys().end()) return false;
  out = it->second;
  return true;
}

bool parse_err(std::string s, rd_kafka_resp_err_t& out) {
  char* end = nullptr;
  long v = strtol(s.c_str(), &end, 10);
  if (!s.empty() && *end == 0) {
    out = static_cast<rd_kafka_resp_err_t>(v);
    return true;
  }
  const std::string prefix = "RD_KAFKA_RESP_ERR_";
  if (s.rfind(prefix, 0) == 0) s = s.substr(prefix.size());
  const rd_kafka_err_desc* descs;
  size_t n;
  rd_kafka_get_err_descs(&descs, &n);
  for (size_t i = 0; i < n; i++)
    if (descs[i].name && strcasecmp(descs[i].name, s.c_str()) == 0) {
      out = descs[i].code;
      return true;
    }
  return false;
}

struct Helper {
  rd_kafka_t* rk = nullptr;        // owns the mock cluster
  rd_kafka_t* client = nullptr;    // a consumer handle for `watermarks`
  rd_kafka_mock_cluster_t* mc = nullptr;
  std::string bootstraps;

  rd_kafka_t* watermark_client() {
    if (client) return client;
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[256];
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps.c_str(), err, sizeof err);
    rd_kafka_conf_set(conf, "group.id", "kafka_mock_broker.watermarks", err, sizeof err);
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    client = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    return client;
  }

  std::string command(const std::string& line) {
    std::istringstream in(line);
    std::string cmd;
    in >> cmd;
    std::vector<std::string> a;
    for (std::string w; in >> w;) a.push_back(w);
    auto need = [&](size_t n) { return a.size() >= n; };
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (cmd.empty() || cmd[0] == '#') return "";
    if (cmd == "ping") return "ok";
    if (cmd == "quit" || cmd == "exit") {
      g_stop = 1;
      return "ok bye";
    }
    if (cmd == "topic" && need(2)) {
      e = rd_kafka_mock_topic_create(mc, a[0].c_str(), atoi(a[1].c_str()),
                                     a.size() > 2 ? atoi(a[2].c_str()) : 1);
    } else if (cmd == "topic_error" && need(2)) {
      if (!parse_err(a[1], e)) return "error unknown error code " + a[1];
      rd_kafka_mock_topic_set_error(mc, a[0].c_str(), e);
      e = RD_KAFKA_RESP_ERR_NO_ERROR;
    } else if (cmd == "errors" && need(2)) {
      int16_t key;
      if (!parse_api_key(a[0], key)) return "error unknown api key " + a[0];
      std::vector<rd_kafka_resp_err_t> errs;
      for (size_t i = 1; i < a.size(); i++) {
        rd_kafka_resp_err_t x;
        if (!parse_err(a[i], x)) return "error unknown error code " + a[i];
        errs.push_back(x);
      }
      rd_kafka_mock_push_request_errors_array(mc, key, errs.size(), errs.data());
    } else if (cmd == "broker_errors" && need(3)) {
      int32_t broker = atoi(a[0].c_str());
      int16_t key;
      if (!parse_api_key(a[1], key)) return "error unknown api key " + a[1];
      for (size_t i = 2; i < a.size(); i++) {
        std::string spec = a[i];
        int rtt = 0;
        if (auto at = spec.find('@'); at != std::string::npos) {
          rtt = atoi(spec.c_str() + at + 1);
          spec = spec.substr(0, at);
        }
        rd_kafka_resp_err_t x;
        if (!parse_err(spec, x)) return "error unknown error code " + spec;
        e = rd_kafka_mock_broker_push_request_error_rtts(mc, broker, key, 1, x, rtt);
        if (e) break;
      }
    } else if (cmd == "clear" && need(1)) {
      int16_t key;
      if (!parse_api_key(a[0], key)) return "error unknown api key " + a[0];
      rd_kafka_mock_clear_request_errors(mc, key);
    } else if (cmd == "down" && need(1)) {
      e = rd_kafka_mock_broker_set_down(mc, atoi(a[0].c_str()));
    } else if (cmd == "up" && need(1)) {
      e = rd_kafka_mock_broker_set_up(mc, atoi(a[0].c_str()));
    } else if (cmd == "rtt" && need(2)) {
      e = rd_kafka_mock_broker_set_rtt(mc, atoi(a[0].c_str()), atoi(a[1].c_str()));
    } else if (cmd == "leader" && need(3)) {
      e = rd_kafka_mock_partition_set_leader(mc, a[0].c_str(), atoi(a[1].c_str()),
                                             atoi(a[2].c_str()));
    } else if (cmd == "watermarks" && need(1)) {
      return watermarks(a[0]);
    } else {
      return "error unknown or incomplete command: " + line;
    }
    if (e) return std::string("error ") + rd_kafka_err2name(e) + ": " + rd_kafka_err2str(e);
    return "ok";
  }

  std::string watermarks(const std::string& topic) {
    rd_kafka_t* c = watermark_client();
    if (!c) return "error cannot create client";
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(c, topic.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_resp_err_t e = rd_kafka_metadata(c, 0, rkt, &md, 5000);
    rd_kafka_topic_destroy(rkt);
    if (e) return std::string("error metadata: ") + rd_kafka_err2name(e);
    std::string out;
    int64_t total = 0;
    if (md->topic_cnt == 1 && md->topics[0].err == 0) {
      for (int i = 0; i < md->topics[0].partition_cnt; i++) {
        int32_t p = md->topics[0].partitions[i].id;
        int64_t lo = 0, hi = 0;
        e = rd_kafka_query_watermark_offsets(c, topic.c_str(), p, &lo, &hi, 5000);
        if (e) {
          rd_kafka_metadata_destroy(md);
          return std::string("error watermarks: ") + rd_kafka_err2name(e);
        }
        total += hi;
        out += " p" + std::to_string(p) + "=" + std::to_string(lo) + "-" + std::to_string(hi);
      }
    } else if (md->topic_cnt == 1) {
      e = md->topics[0].err;
    }
    rd_kafka_metadata_destroy(md);
    if (e) return std::string("error ") + rd_kafka_err2name(e);
    return "ok total=" + std::to_string(total) + out;
  }
};

void on_signal(int) { g_stop = 1; }

int usage() {
  std::cerr << "usage: kafka_mock_broker [--brokers N] [--topic NAME[:PARTITIONS[:REPLICATION]]]... "
               "[--fifo PATH]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int brokers = 3;
  std::vector<std::string> topics;
  std::string fifo;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--brokers" && i + 1 < argc) brokers = atoi(argv[++i]);
    else if (a == "--topic" && i + 1 < argc) topics.push_back(argv[++i]);
    else if (a == "--fifo" && i + 1 < argc) fifo = argv[++i];
    else return usage();
  }
  if (brokers < 1) return usage();

  Helper h;
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  h.rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!h.rk) {
    std::cerr << "kafka_mock_broker: " << err << "\n";
    return 1;
  }
  h.mc = rd_kafka_mock_cluster_new(h.rk, brokers);
  if (!h.mc) {
    std::cerr << "kafka_mock_broker: cannot create the mock cluster\n";
    return 1;
  }
  h.bootstraps = rd_kafka_mock_cluster_bootstraps(h.mc);
  for (auto& t : topics) {
    std::string name = t;
    int parts = 4, rf = 1;
    if (auto c = t.find(':'); c != std::string::npos) {
      name = t.substr(0, c);
      parts = atoi(t.c_str() + c + 1);
      if (auto c2 = t.find(':', c + 1); c2 != std::string::npos) rf = atoi(t.c_str() + c2 + 1);
    }
    if (rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(h.mc, name.c_str(), parts, rf)) {
      std::cerr << "kafka_mock_broker: topic " << name << ": " << rd_kafka_err2str(e) << "\n";
      return 1;
    }
  }

  struct sigaction sa {};
  sa.sa_handler = on_signal;  // no SA_RESTART: a blocked read returns EINTR
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  printf("%s\n", h.bootstraps.c_str());
  fflush(stdout);

  auto serve = [&](FILE* in) {
    char* line = nullptr;
    size_t cap = 0;
    ssize_t n;
    while (!g_stop && (n = getline(&line, &cap, in)) >= 0) {
      std::string l(line, static_cast<size_t>(n));
      while (!l.empty() && (l.back() == '\n' || l.back() == '\r')) l.pop_back();
      std::string reply = h.command(l);
      if (!reply.empty()) {
        printf("%s\n", reply.c_str());
        fflush(stdout);
      }
    }
    free(line);
  };

  if (fifo.empty()) {
    serve(stdin);
  } else {
    while (!g_stop) {
      FILE* f = fopen(fifo.c_str(), "r");  // blocks until a writer opens it
      if (!f) {
        if (errno == EINTR) continue;
        std::cerr << "kafka_mock_broker: " << fifo << ": " << strerror(errno) << "\n";
        break;
      }
      serve(f);
      fclose(f);
    }
  }
  while (!g_stop) pause();

  if (h.client) rd_kafka_destroy(h.client);
  rd_kafka_mock_cluster_destroy(h.mc);
  rd_kafka_destroy(h.rk);
  return 0;
}
