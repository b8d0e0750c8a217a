/* The Java test programs' start gate, as testprog/tp_gate.h for the C ones: prints "ready", then waits
 * for one line on stdin (EOF starts at once), so that a test attaches rtmon before the work. */
final class Gate {
    private Gate() {
    }

    static void await() throws java.io.IOException {
        System.out.println("ready");
        System.out.flush();
        while (true) {
            int c = System.in.read();
            if (c < 0 || c == '\n')
                return;
        }
    }
}
