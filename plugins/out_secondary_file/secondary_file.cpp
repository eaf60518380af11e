// `<secondary> @type secondary_file`: the chunks a buffered output stops retrying, written to
// files as Fluentd's out_secondary_file does: `<directory>/<basename>.<n>` (the first n not
// taken), or appended to `<directory>/<basename>` with `append true`; `.gz` with
// `compress gzip`. The bytes are the chunk as the output formatted it (Elasticsearch bulk lines,
// forward msgpack entries), so they can be sent again as they are. Each write is fsync'ed before
// the chunk counts as delivered (its records' positions may then pass).
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "buffer/buffer.h"
#include "buffer/chunk_file.h"
#include "core/registry.h"
#include "format/tag_placeholders.h"
#include "http/http_client.h"

namespace sluice {

namespace {

// ${chunk_id} (16 hex digits), then the tag placeholders (format/tag_placeholders.h). A chunk
// without a tag, or a tag without the part asked for, is an error here: the file would land
// elsewhere than configured.
bool expand(const std::string& pattern, const buffer::Chunk& c, std::string& out, std::string& error) {
  char hex[17];
  snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(c.id));
  out = pattern;
  for (size_t at = out.find("${chunk_id}"); at != std::string::npos; at = out.find("${chunk_id}", at + 16))
    out.replace(at, 11, hex);
  const size_t tag_at = out.find("${tag");
  if (tag_at == std::string::npos) return true;
  if (c.tag.empty()) {
    error = "the chunk has no tag for " + out.substr(tag_at, out.find('}', tag_at) + 1 - tag_at) +
            " (add tag to the <buffer> chunk keys)";
    return false;
  }
  std::string missing;
  out = expand_tag_placeholders(out, c.tag, &missing);
  if (!missing.empty()) {
    error = "the tag '" + c.tag + "' has no part " + missing;
    return false;
  }
  return true;
}

class SecondaryFile final : public buffer::Secondary {
 public:
  SecondaryFile(std::string directory, std::string basename, bool append, bool gzip)
      : directory_(std::move(directory)), basename_(std::move(basename)), append_(append), gzip_(gzip) {}

  bool write(const buffer::Chunk& c, std::string& where) override {
    std::string dir, base;
    if (!expand(directory_, c, dir, where) || !expand(basename_, c, base, where)) return false;
    if (base.find('/') != std::string::npos) {
      where = "the basename '" + base + "' holds a '/' once expanded";
      return false;
    }
    if (!buffer::mkdirs(dir, where)) return false;
    const std::string stem = dir + "/" + base, suffix = gzip_ ? ".gz" : "";
    std::string path;
    int fd = -1;
    if (append_) {
      path = stem + suffix;
      fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    } else {
      // The first free `<stem>.<n>`, taken with O_EXCL so that two workers never share one.
      for (unsigned n = 0; fd < 0 && n < 1000000; ++n) {
        path = stem + "." + std::to_string(n) + suffix;
        fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 && errno != EEXIST) break;
      }
    }
    if (fd < 0) {
      where = "cannot open " + path + ": " + strerror(errno);
      return false;
    }
    const std::string compressed = gzip_ ? http::gzip_compress(c.payload, 6) : std::string();
    int err = ::flock(fd, LOCK_EX) == 0 ? buffer::write_fully(fd, gzip_ ? compressed : c.payload) : errno;
    if (err == 0 && ::fsync(fd) != 0) err = errno;
    ::close(fd);
    where = err == 0 ? path : "cannot write " + path + ": " + strerror(err);
    return err == 0;
  }

 private:
  std::string directory_, basename_;
  bool append_, gzip_;
};

// The placeholders expand() knows; anything else in `${...}` is a configuration error.
void check_placeholders(const std::string& text, const ConfigParam* at, const ConfigSection& section) {
  for (size_t i = text.find("${"); i != std::string::npos; i = text.find("${", i + 2)) {
    const size_t close = text.find('}', i);
    const std::string name = close == std::string::npos ? "" : text.substr(i + 2, close - i - 2);
    bool ok = name == "tag" || name == "chunk_id";
    if (name.size() > 5 && name.compare(0, 4, "tag[") == 0 && name.back() == ']') {
      const std::string n = name.substr(4, name.size() - 5);
      ok = !n.empty() && n.find_first_not_of("-0123456789") == std::string::npos && n.find('-', 1) == std::string::npos &&
           n != "-";
    }
    if (!ok)
      throw ConfigException(at ? at->pos : section.pos,
                            "secondary_file: unsupported placeholder '" + text.substr(i, close == std::string::npos ? 2 : close - i + 1) +
                                "' (${tag}, ${tag[N]}, ${chunk_id})");
  }
}

}  // namespace

void register_out_secondary_file(Registry& registry) {
  PluginSpec spec{"secondary", "secondary_file",
                  "In <secondary>: writes the chunks its output stops retrying to files, as the output "
                  "formatted them (Fluentd's out_secondary_file).",
                  {},
                  {}};
  ParamSpec directory = spec::optional("directory", ParamType::String, "Directory of the files (created when missing).");
  directory.required = true;
  spec.params = {
      directory,
      spec::with_default("basename", ParamType::String, "dump.bin", "File name; `.<n>` is added unless append."),
      spec::with_default("append", ParamType::Bool, "false", "Append every chunk to one file."),
      spec::choice("compress", "text", {"text", "gzip"}, "text or gzip (one gzip member per chunk, `.gz`)."),
  };
  registry.add_secondary(std::move(spec), [](PluginContext& ctx, const Params& p) {
    const std::string directory = p.str("directory"), basename = p.str("basename");
    if (basename.find('/') != std::string::npos)
      throw ConfigException(p.pos("basename"), "secondary_file: basename should not include `/`");
    check_placeholders(directory, ctx.section->param("directory"), *ctx.section);
    check_placeholders(basename, ctx.section->param("basename"), *ctx.section);
    return std::make_unique<SecondaryFile>(directory, basename, p.flag("append"), p.str("compress") == "gzip");
  });
}

}  // namespace sluice
