from storelink.cli import main

main()
