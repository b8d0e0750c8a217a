module rtmon/testprog/gostack

go 1.17
