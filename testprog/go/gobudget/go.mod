module rtmon/testprog/gobudget

go 1.17
