from franchise.cli import main

main()
