module rtmon/testprog/golines

go 1.17
