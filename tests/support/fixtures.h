// Reading the shared test fixtures (SLUICE_FIXTURES = <repo>/../shared/fixtures).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sluice::test {

// Absolute path of a fixture, e.g. fixture_path("cri/real-java-stacktrace-containerd.log").
std::string fixture_path(std::string_view relative);

// The whole file; throws std::runtime_error when it cannot be read.
std::string read_file(const std::string& path);
std::string read_fixture(std::string_view relative);

// Splits on '\n' like a tailer (the terminator is not part of a line; a trailing unterminated
// fragment is returned too unless drop_unterminated). A trailing '\r' is kept.
std::vector<std::string> split_lines(std::string_view text, bool drop_unterminated = false);

// Decodes standard Base64 (fixtures with binary input carry it that way).
std::string base64_decode(std::string_view in);

}  // namespace sluice::test
