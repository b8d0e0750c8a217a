module rtmon/testprog/servego

go 1.17
