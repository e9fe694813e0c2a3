module github.com/jjflow/jj

go 1.26.8
