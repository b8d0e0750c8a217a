module rtmon/tests/bench/gomalloc

go 1.17
