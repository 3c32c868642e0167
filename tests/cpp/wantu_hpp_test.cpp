// Tests of include/wantu.hpp against a real wantu-server.
//
// Self-contained: it starts its own wantu-server on 127.0.0.1:0 with a fresh
// data directory and stops it at the end (see harness.hpp for where the
// binary comes from; run it from the repository root).
//
//   g++ -std=c++17 -Wall -Wextra -Werror -Iinclude -Itests/cpp tests/cpp/wantu_hpp_test.cpp
//       -Ltarget/debug -lwantu -Wl,-rpath,$PWD/target/debug -o build/wantu_hpp_test
//   build/wantu_hpp_test
//
// Exit status 0 when every check passed; each failure is printed.

#include "harness.hpp"

#include <atomic>
#include <fstream>
#include <future>
#include <thread>
#include <type_traits>

namespace {

using namespace harness;

void test_types_and_parsing() {
    static_assert(!std::is_copy_constructible_v<wantu::Client>, "Client must not be copyable");
    static_assert(!std::is_copy_assignable_v<wantu::Client>, "Client must not be copyable");
    static_assert(std::is_nothrow_move_constructible_v<wantu::Client>, "Client moves");
    static_assert(std::is_nothrow_move_assignable_v<wantu::Client>, "Client moves");

    CHECK(wantu::header_matches_library(), "header and library versions differ");

    wantu::Result r(R"({"meta":{"code":999,"x":"}"},"code":409, "error":"FileAlreadyExists",)"
                    R"("message":"say \"hi\" \u00e9\ud83d\ude00\n","request_id":"r1","n":[1,{"code":3}]})");
    CHECK(r.code() == 409, "top-level code, not the one inside meta");
    CHECK(!r.ok(), "409 is not ok");
    CHECK(r.error() == "FileAlreadyExists", "error name");
    CHECK(r.message() == "say \"hi\" \xc3\xa9\xf0\x9f\x98\x80\n", "message unescaped: " + r.message());
    CHECK(r.raw("n") == R"([1,{"code":3}])", "raw array");
    CHECK(r.get("absent").empty(), "absent field");
    bool threw = false;
    try {
        r.value();
    } catch (const wantu::Error &e) {
        threw = e.code() == 409 && std::string(e.what()).find("FileAlreadyExists") != std::string::npos;
    }
    CHECK(threw, "value() throws wantu::Error on an error result");
    CHECK(wantu::Result("garbage").code() == 0, "unparsable JSON has code 0");
}

void test_constructor_errors() {
    bool threw = false;
    try {
        wantu::Client bad("", SK);
    } catch (const wantu::Error &e) {
        threw = e.code() == 0 && e.result().error() == "InvalidArgument" &&
                e.result().message().find("`ak`") != std::string::npos;
    }
    CHECK(threw, "empty ak throws InvalidArgument naming `ak`");
    threw = false;
    try {
        wantu::Client bad(AK, SK, "OSS");
    } catch (const wantu::Error &e) {
        threw = e.result().message().find("`type`") != std::string::npos;
    }
    CHECK(threw, "bad type throws");
    threw = false;
    try {
        wantu::Client bad(AK, nullptr);
    } catch (const wantu::Error &e) {
        threw = e.result().message().find("`sk`") != std::string::npos;
    }
    CHECK(threw, "NULL sk throws");
    threw = false;
    try {
        wantu::Client bad(AK, std::string("s\0k", 3));
    } catch (const wantu::Error &e) {
        threw = e.result().message().find("NUL") != std::string::npos;
        CHECK(std::string(e.what()).find(std::string("s\0k", 3)) == std::string::npos, "no secret in message");
    }
    CHECK(threw, "NUL in sk throws");
    threw = false;
    try {
        auto c = wantu::Client::with_options(AK, SK, nullptr, nullptr, nullptr, R"({"nope":1})");
    } catch (const wantu::Error &e) {
        threw = e.result().error() == "InvalidArgument";
    }
    CHECK(threw, "unknown option throws");
}

void test_seed_flow(const Server &server) {
    wantu::Client client(AK, SK, nullptr, server.url(), server.url());

    // upload_content, then read it back through /files/.
    std::string hello = "hello from C++\n";
    auto r = client.upload_content(POLICY, "/cpp", "hello.txt", hello, nullptr,
                                   R"({"lang":"c++"})", nullptr);
    CHECK(r.ok(), "upload_content: " + r.json());
    CHECK(r.get("name") == "hello.txt" && r.get("dir") == "/cpp", r.json());
    CHECK(!r.get("url").empty() && !r.get("e_tag").empty() && !r.request_id().empty(), r.json());
    int status = 0;
    CHECK(http_get(server.port(), "/files/cppns/cpp/hello.txt", &status) == hello && status == 200,
          "download is byte-exact");

    // upload_file from disk.
    auto path = server.dir().parent_path() / ("wantu-cpp-file-" + std::to_string(getpid()));
    std::string data = pattern(300000, 7);
    std::ofstream(path, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
    r = client.upload_file(POLICY, "/cpp", "file.bin", path.string());
    std::filesystem::remove(path);
    CHECK(r.ok() && r.get("file_size") == "300000", "upload_file: " + r.json());
    CHECK(http_get(server.port(), "/files/cppns/cpp/file.bin", &status) == data, "file byte-exact");

    // Multipart: 3 parts, completed with the seed's Base64 parts.
    std::string big = pattern(250000, 9);
    const size_t part = 102400;
    auto init = client.multipart_init(POLICY, "/cpp", "multi.bin", std::string_view(big).substr(0, part));
    CHECK(init.ok() && init.raw("part_number") == "1", "multipart_init: " + init.json());
    std::string id = init.get("id"), upload_id = init.get("upload_id");
    std::string parts = "[{\"e_tag\":\"" + init.get("e_tag") + "\",\"part_number\":1}";
    for (std::uint32_t n = 2; n <= 3; ++n) {
        auto up = client.multipart_upload(POLICY, id, upload_id, n,
                                          std::string_view(big).substr((n - 1) * part, part));
        CHECK(up.ok() && up.raw("part_number") == std::to_string(n), "multipart_upload: " + up.json());
        parts += ",{\"e_tag\":\"" + up.get("e_tag") + "\",\"part_number\":" + std::to_string(n) + "}";
    }
    parts += "]";
    auto done = client.multipart_complete(POLICY, id, upload_id, b64url(parts));
    CHECK(done.ok() && done.get("file_size") == "250000", "multipart_complete: " + done.json());
    CHECK(http_get(server.port(), "/files/cppns/cpp/multi.bin", &status) == big, "multipart byte-exact");

    // Cancel, then the upload is gone.
    init = client.multipart_init(POLICY, "/cpp", "cancelled.bin", std::string_view(big).substr(0, part));
    CHECK(init.ok(), init.json());
    auto cancel = client.multipart_cancel(POLICY, init.get("id"), init.get("upload_id"));
    CHECK(cancel.ok(), "multipart_cancel: " + cancel.json());
    auto after = client.multipart_upload(POLICY, init.get("id"), init.get("upload_id"), 2, "x");
    CHECK(after.code() == 404, "upload after cancel is 404: " + after.json());

    // The token call.
    auto token = client.upload_token(POLICY);
    CHECK(token.ok() && token.get("token").rfind("UPLOAD_AK_TOP ", 0) == 0, token.json());
}

void test_errors(const Server &server) {
    wantu::Client client(AK, SK, nullptr, server.url(), server.url());
    auto r = client.upload_content(R"({"expiration":-1})", "/d", "n", "x");
    CHECK(r.code() == 0 && r.error() == "InvalidArgument" &&
              r.message().find("namespace") != std::string::npos, r.json());
    r = client.upload_content(POLICY, std::string("/d\0x", 4), "n", "x");
    CHECK(r.error() == "InvalidArgument" && r.message().find("`dir`") != std::string::npos, r.json());
    r = client.upload_file(POLICY, "/d", "n", "/nonexistent/file");
    CHECK(r.error() == "IoError" && r.message().find("/nonexistent/file") != std::string::npos, r.json());
    r = client.multipart_complete(POLICY, "no-such-id", "NOPE", "!!!not base64");
    CHECK(r.code() == 0 && r.error() == "InvalidArgument", r.json());
    r = client.upload_content(POLICY, "/d", "n", "x", "0123");
    CHECK(r.error() == "InvalidArgument" && r.message().find("md5") != std::string::npos, r.json());

    wantu::Client wrong(AK, "not-the-secret", nullptr, server.url(), server.url());
    r = wrong.upload_content(POLICY, "/d", "n", "x");
    CHECK(r.code() == 401 && r.error() == "InvalidToken", r.json());
    CHECK(r.json().find("not-the-secret") == std::string::npos, "secret key never echoed");

    wantu::Client refused(AK, SK, nullptr, "http://127.0.0.1:1", "http://127.0.0.1:1");
    r = refused.upload_content(POLICY, "/d", "n", "x");
    CHECK(r.code() == 0 && r.error() == "ConnectError", r.json());

    // A moved-from client answers an error instead of crashing.
    wantu::Client moved = std::move(client);
    r = client.upload_content(POLICY, "/d", "n", "x");  // NOLINT(bugprone-use-after-move)
    CHECK(r.error() == "InvalidArgument" && r.message().find("client") != std::string::npos, r.json());
    r = moved.upload_content(POLICY, "/d", "moved.txt", "x");
    CHECK(r.ok(), "the moved-to client works: " + r.json());
    // Move assignment releases the old handle (valgrind checks no leak).
    moved = wantu::Client(AK, SK, nullptr, server.url(), server.url());
    CHECK(moved.upload_token(POLICY).ok(), "after move assignment");

    // Escape hatch for C calls the header does not wrap.
    r = moved.call([](wantu_client *c) { return wantu_upload_token(c, nullptr); });
    CHECK(r.error() == "InvalidArgument", r.json());
}

void test_threads(const Server &server) {
    const wantu::Client client(AK, SK, nullptr, server.url(), server.url());
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 10; ++i) {
                std::string name = "t" + std::to_string(t) + "-" + std::to_string(i);
                if (client.upload_content(POLICY, "/threads", name, pattern(1000, t * 100 + i)).ok()) ++ok;
            }
        });
    }
    for (auto &th : threads) th.join();
    CHECK(ok == 40, "40 concurrent uploads through one client, got " + std::to_string(ok.load()));
    int status = 0;
    CHECK(http_get(server.port(), "/files/cppns/threads/t3-9", &status) == pattern(1000, 309),
          "a threaded upload is byte-exact");
}

void test_futures(const Server &server) {
    const wantu::Client client(AK, SK, nullptr, server.url(), server.url());
    std::vector<std::future<wantu::Result>> pending;
    for (int i = 0; i < 50; ++i) {
        std::string content = pattern(500, 700 + i); // copied before the call returns
        pending.push_back(client.upload_content_async(POLICY, "/futures", "f" + std::to_string(i), content));
    }
    int ok = 0;
    for (auto &f : pending) ok += f.get().ok() ? 1 : 0;
    CHECK(ok == 50, "50 uploads in flight as futures, got " + std::to_string(ok));
    wantu::Result got = client.file_get_async("cppns", "/futures", "f7").get();
    CHECK(got.ok() && got.raw("size") == "500", "file_get_async: " + got.json());
    int status = 0;
    CHECK(http_get(server.port(), "/files/cppns/futures/f7", &status) == pattern(500, 707),
          "a future's upload is byte-exact");
    wantu::Result refused = client.upload_content_async("not json", "/futures", "x", "x").get();
    CHECK(!refused.ok() && refused.error() == "InvalidArgument", "refused at once: " + refused.json());
    wantu::Result nul = client.file_get_async(std::string("ns\0x", 4), "/d", "n").get();
    CHECK(nul.error() == "InvalidArgument", "a NUL inside an argument: " + nul.json());
}

} // namespace

int main() {
    try {
        test_types_and_parsing();
        test_constructor_errors();
        Server server;
        test_seed_flow(server);
        test_errors(server);
        test_threads(server);
        test_futures(server);
    } catch (const std::exception &e) {
        std::cerr << "FAIL: unexpected exception: " << e.what() << "\n";
        return 1;
    }
    if (failures) {
        std::cerr << failures << " check(s) failed\n";
        return 1;
    }
    std::cout << "wantu.hpp: all checks passed\n";
    return 0;
}
