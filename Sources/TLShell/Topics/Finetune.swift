extension Topic {
    static let finetune = Topic(
        name: "finetune", title: "Fine-tuning",
        text: """
          Train a network on plentiful source data, then continue training it on the few labelled
          target examples. The source weights are the starting point: the target's gradient
          steps only adjust them, so little data goes a long way. Too many steps on too few
          examples overfit them — watch a validation set, or see :help conservative.
          """,
        formula: """
          θ₀ = argmin_θ L_source(θ);   then from θ₀:  θ ← θ − η ∇L_target(θ)
          """,
        example: """
          seed(1)
          net = cnn()
          train(net, digits(600), epochs=2, optimizer="adam", lr=0.001, quiet=true);
          few = take(digits(300, style="usps", seed=2), 3, per_class=true)
          tuned = clone(net)
          train(tuned, few, epochs=10, batch=10, quiet=true);
          scratch = cnn()
          train(scratch, few, epochs=10, batch=10, quiet=true);
          test = digits(300, style="usps", seed=3)
          print("fine-tuned", round(evaluate(tuned, test).accuracy, 2), " from scratch", round(evaluate(scratch, test).accuracy, 2))
          """)
}
