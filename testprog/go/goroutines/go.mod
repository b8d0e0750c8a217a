module rtmon/testprog/goroutines

go 1.17
