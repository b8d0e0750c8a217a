module rtmon/tests/bench/goevents

go 1.17
