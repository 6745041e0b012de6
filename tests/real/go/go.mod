module zprewrite.test/real

go 1.19
