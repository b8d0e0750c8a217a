module rtmon/testprog/goparked

go 1.17
