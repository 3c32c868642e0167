// The seed's demo flow in C++ with wantu.hpp: upload bytes, a multipart upload
// of two parts, a cancel, and what an error looks like.
//
//   demo ENDPOINT AK SK NAMESPACE      (ENDPOINT "" = the service's defaults)
//
//   g++ -std=c++17 demo.cpp $(pkg-config --cflags --libs wantu) -o demo
//
// Exits 1 if a step did not answer as expected.
#include <wantu.hpp>

#include <iostream>
#include <string>

int main(int argc, char **argv) {
    if (argc != 5) {
        std::cerr << "usage: " << argv[0] << " ENDPOINT AK SK NAMESPACE\n";
        return 2;
    }
    const std::string endpoint = argv[1];
    const std::string policy = R"({"namespace":")" + std::string(argv[4]) + R"(","expiration":-1})";
    int failures = 0;
    auto show = [&](const char *step, const wantu::Result &r, int expected = 200) {
        std::cout << step << ": " << r.json() << "\n";
        if (r.code() != expected) ++failures;
    };

    try {
        // nullptr endpoints mean the service's defaults.
        wantu::Client client(argv[2], argv[3], nullptr,
                             endpoint.empty() ? wantu::Arg() : wantu::Arg(endpoint),
                             endpoint.empty() ? wantu::Arg() : wantu::Arg(endpoint));

        show("upload_content", client.upload_content(policy, "/cpp-demo", "hello.txt",
                                                     std::string_view("hello from C++\n")));

        // Multipart: every part but the last is at least 100 KiB.
        std::string part1(WANTU_MIN_PART_SIZE, 'a'), part2(1000, 'b');
        auto init = client.multipart_init(policy, "/cpp-demo", "big.bin", part1);
        show("multipart_init", init);
        auto up = client.multipart_upload(policy, init.get("id"), init.get("upload_id"), 2, part2);
        show("multipart_upload", up);
        std::string parts = R"([{"e_tag":")" + init.get("e_tag") + R"(","part_number":1},{"e_tag":")" +
                            up.get("e_tag") + R"(","part_number":2}])";
        show("multipart_complete",
             client.multipart_complete(policy, init.get("id"), init.get("upload_id"), parts));

        auto cancel_me = client.multipart_init(policy, "/cpp-demo", "cancelled.bin", part1);
        show("multipart_cancel",
             client.multipart_cancel(policy, cancel_me.get("id"), cancel_me.get("upload_id")));

        // Errors are results too: code 0 for client-side problems.
        show("an error", client.upload_file(policy, "/cpp-demo", "x", "/no/such/file"), 0);
    } catch (const wantu::Error &e) {  // only the constructor throws
        std::cerr << "cannot create the client: " << e.what() << "\n";
        return 1;
    }
    if (failures) {
        std::cerr << failures << " step(s) did not answer as expected\n";
        return 1;
    }
    std::cout << "C++ demo finished\n";
    return 0;
}
