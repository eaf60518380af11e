// The floor under bench/callgrind.sh's figure: the least work that turns CRI lines into the same
// Elasticsearch bulk bytes, in one loop with nothing between the steps (no records, fields,
// buffer, plugins, event loop or sending). It reads a CRI file in 1 MiB blocks and, per line,
// finds the newline and the three separators, takes the event time (the second's text compared
// with the line before, only the fraction read), and writes the action line, the four fields
// (the message through sluice's escaper, the others copied), the pod's metadata (copied: any
// collector renders it once per pod) and `@timestamp`. The output goes to a 4 MiB block that is
// reset when full, as if sent.
//
// Usage: callgrind_floor FILE METADATA_BYTES
// Prints records and output bytes; bench/callgrind.sh picks METADATA_BYTES so that the output
// matches the bytes the real pipeline sent for the same lines (the content of the metadata does
// not change the cost of copying it), and counts this program's instructions per record the way
// it counts sluice's.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "format/json.h"

namespace {

constexpr size_t kBlock = 1 << 20;
constexpr size_t kOutBlock = 4 << 20;

struct Output {
  std::vector<char> block = std::vector<char>(kOutBlock);
  size_t used = 0;
  uint64_t total = 0;
  // Room for one document; a full block is "sent".
  char* room(size_t n) {
    if (used + n > block.size()) {
      total += used;
      used = 0;
      if (n > block.size()) block.resize(n);
    }
    return block.data() + used;
  }
  void advance(char* end) { used = size_t(end - block.data()); }
};

char* put(char* w, std::string_view s) {
  std::memcpy(w, s.data(), s.size());
  return w + s.size();
}

struct Floor {
  Output out;
  std::string metadata;
  std::string action;         // for the current day
  char second_text[19] = {};  // "YYYY-MM-DDTHH:MM:SS" of the line before
  uint64_t records = 0;
  // Partial (P) lines held per stream until the stream's F line, as the CRI parser joins them.
  struct Held {
    std::string message, time;
  } held[2];

  void line(std::string_view s) {
    const char* p = s.data();
    const char* end = p + s.size();
    const char* sp1 = static_cast<const char*>(std::memchr(p, ' ', size_t(end - p)));
    if (!sp1 || sp1 - p < 21) return;
    const char* sp2 = static_cast<const char*>(std::memchr(sp1 + 1, ' ', size_t(end - sp1 - 1)));
    if (!sp2) return;
    const char* sp3 = static_cast<const char*>(std::memchr(sp2 + 1, ' ', size_t(end - sp2 - 1)));
    if (!sp3) return;
    if (std::memcmp(p, second_text, 19) != 0) {
      std::memcpy(second_text, p, 19);
      action = "{\"index\":{\"_index\":\"logstash-";
      action.append(p, 4).append(".").append(p + 5, 2).append(".").append(p + 8, 2);
      action += "\"}}\n";
    }
    std::string_view time(p, size_t(sp1 - p)), stream(sp1 + 1, size_t(sp2 - sp1 - 1)),
        tag(sp2 + 1, size_t(sp3 - sp2 - 1)), message(sp3 + 1, size_t(end - sp3 - 1));
    Held& h = held[stream == "stderr"];
    if (tag == "P") {
      if (h.time.empty()) h.time.assign(time);
      h.message.append(message);
      return;
    }
    if (!h.time.empty()) {  // the F line ending a joined message: the first fragment's time
      h.message.append(message);
      message = h.message;
      time = h.time;
    }
    char* w = out.room(action.size() + 64 + time.size() * 2 + stream.size() + tag.size() +
                       sluice::json::max_escaped_size(message.size()) + metadata.size());
    w = put(w, action);
    w = put(w, "{\"stream\":\"");
    w = put(w, stream);
    w = put(w, "\",\"logtag\":\"");
    w = put(w, tag);
    w = put(w, "\",\"message\":\"");
    w = sluice::json::write_escaped_body(w, message);
    w = put(w, "\",\"time\":\"");
    w = put(w, time);
    *w++ = '"';
    w = put(w, metadata);
    w = put(w, ",\"@timestamp\":\"");
    w = put(w, std::string_view(p, 20));  // the second and the '.'
    // Nine fraction digits: the stamp's (Go drops trailing zeros) padded with zeros.
    std::memcpy(w, "000000000", 9);
    std::memcpy(w, p + 20, std::min<size_t>(size_t(sp1 - p) - 21, 9));
    w = put(w + 9, "+00:00\"}\n");
    out.advance(w);
    ++records;
    h.message.clear();
    h.time.clear();
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s CRI_FILE METADATA_BYTES\n", argv[0]);
    return 2;
  }
  const int fd = open(argv[1], O_RDONLY);
  if (fd < 0) {
    std::perror(argv[1]);
    return 1;
  }
  Floor floor;
  floor.metadata.assign(std::strtoul(argv[2], nullptr, 10), 'm');
  std::vector<char> buf(kBlock + 1);
  size_t have = 0;
  for (;;) {
    const ssize_t n = read(fd, buf.data() + have, buf.size() - have);
    if (n <= 0) break;
    have += size_t(n);
    const char* p = buf.data();
    const char* end = p + have;
    while (const char* nl = static_cast<const char*>(std::memchr(p, '\n', size_t(end - p)))) {
      floor.line(std::string_view(p, size_t(nl - p)));
      p = nl + 1;
    }
    have = size_t(end - p);
    std::memmove(buf.data(), p, have);
    if (have == buf.size()) buf.resize(buf.size() * 2);
  }
  close(fd);
  std::printf("%llu records, %llu bytes\n", static_cast<unsigned long long>(floor.records),
              static_cast<unsigned long long>(floor.out.total + floor.out.used));
  return 0;
}
