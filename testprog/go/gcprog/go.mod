module rtmon/testprog/gcprog

go 1.17
