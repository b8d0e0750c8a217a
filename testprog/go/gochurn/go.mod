module rtmon/testprog/gochurn

go 1.17
