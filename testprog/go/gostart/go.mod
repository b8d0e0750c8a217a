module rtmon/testprog/gostart

go 1.17
