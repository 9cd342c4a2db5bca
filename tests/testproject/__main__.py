from django_zipserve.entrypoint import make_main

main = make_main("tests.testproject.settings")

if __name__ == "__main__":
    main()
