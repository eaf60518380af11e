// libFuzzer target: in_tail's PositionFile::parse_line (Fluentd's pos_file lines
// `<path>\t<offset %016x>\t<inode %016x>`), on each '\n'-separated line of the input. A line that
// parses must write back (as save() writes it) to a line that parses to the same entry.
#include <cinttypes>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "../../plugins/in_tail/position_file.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  while (true) {
    size_t nl = in.find('\n');
    std::string line(in.substr(0, nl));
    std::string path;
    sluice::PositionEntry e;
    if (sluice::PositionFile::parse_line(line, path, e)) {
      SLUICE_FUZZ_CHECK(!path.empty() && path.size() < line.size());
      char tail[40];
      std::snprintf(tail, sizeof tail, "\t%016" PRIx64 "\t%016" PRIx64, e.offset, e.inode);
      std::string written = path + tail, path2;
      sluice::PositionEntry e2;
      SLUICE_FUZZ_CHECK(sluice::PositionFile::parse_line(written, path2, e2));
      SLUICE_FUZZ_CHECK(path2 == path && e2.offset == e.offset && e2.inode == e.inode);
    }
    if (nl == std::string_view::npos) break;
    in.remove_prefix(nl + 1);
  }
  return 0;
}
