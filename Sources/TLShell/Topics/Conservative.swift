extension Topic {
    static let conservative = Topic(
        name: "conservative", title: "Conservative training",
        text: """
          Fine-tuning on very few target labels can move the weights far from what the source
          taught. Conservative training adds a penalty that keeps the model close to the
          pretrained one: either its weights (L2-SP, train(..., conservative=c)) or its outputs on
          the target inputs (learning without forgetting, train(..., consistency=c)).
          """,
        formula: """
          L2-SP:        L_target(θ) + c · ‖θ − θ₀‖²
          consistency:  L_target(θ) + c · KL(p_θ₀(y|x) ‖ p_θ(y|x))
          """,
        example: """
          seed(1)
          net = cnn()
          train(net, digits(600), epochs=2, optimizer="adam", lr=0.001, quiet=true);
          few = take(digits(300, style="usps", seed=2), 1, per_class=true)
          plain = clone(net)
          train(plain, few, epochs=20, batch=10, quiet=true);
          kept = clone(net)
          train(kept, few, epochs=20, batch=10, conservative=0.1, quiet=true);
          test = digits(300, style="usps", seed=3)
          print("plain", round(evaluate(plain, test).accuracy, 2), " L2-SP", round(evaluate(kept, test).accuracy, 2))
          """)
}
